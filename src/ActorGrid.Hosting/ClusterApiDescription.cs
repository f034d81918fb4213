#nullable enable
using ActorGrid.Http;

namespace ActorGrid.Hosting;

/// <summary>The health and cluster endpoints' bodies for the OpenAPI document.</summary>
internal static class ClusterApiDescription
{
    public static HttpApiDescription DescribeCluster(this HttpApiDescription api) => api
        .Add("GET", "/health/live", "200 while the actor system runs", typeof(HealthView))
        .Add("GET", "/health/ready", "200 once this node is Up with its shard regions started, else 503", typeof(HealthView))
        .Add("GET", "/cluster", "This node, the leader, members and unreachable nodes", typeof(ClusterEndpoints.ClusterView))
        .Add("GET", "/cluster/shards", "Per role and entity type: each shard's node, entity count and recent load", typeof(ShardsView));

    internal sealed record HealthView(string Status);

    internal sealed record ShardsView(IReadOnlyList<ClusterEndpoints.RegionView> Regions);
}
