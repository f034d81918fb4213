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
        .Add("POST", "/cluster/leave", "Make a member leave gracefully (its shards hand off first); admin scope",
            typeof(ClusterEndpoints.MemberActionView), status: 202, request: typeof(ClusterEndpoints.MemberRequest), problems: [400, 404])
        .Add("POST", "/cluster/down", "Down a member that is gone (its shards move at once); admin scope",
            typeof(ClusterEndpoints.MemberActionView), status: 202, request: typeof(ClusterEndpoints.MemberRequest), problems: [400, 404])
        .Add("GET", "/cluster/shards", "Per role and entity type: each shard's node, entity count and recent load", typeof(ShardsView));

    internal sealed record HealthView(string Status);

    internal sealed record ShardsView(IReadOnlyList<ClusterEndpoints.RegionView> Regions);
}
