#nullable enable
using System.Text.Json.Serialization;
using ActorGrid.Grid;
using ActorGrid.Security;
using ActorGrid.Hosting.Observability;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ActorGrid.Hosting;

/// <summary>The cluster part of the HTTP API: health, membership and shard placement.</summary>
public static class ClusterEndpoints
{
    /// <summary>Maps <c>/health/live</c> and <c>/health/ready</c>, open to probes without a token.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Liveness must not depend on cluster reachability: a partitioned node is alive, just not ready.
        endpoints.MapGet("/health/live", (HealthCheckService health, HttpContext http) =>
            HealthAsync(health, http, ObservabilityExtensions.LiveTag, "live", "Actor system terminated"));
        endpoints.MapGet("/health/ready", (HealthCheckService health, HttpContext http) =>
            HealthAsync(health, http, ObservabilityExtensions.ReadyTag, "ready", "Not ready"));

        return endpoints;
    }

    /// <summary>Maps <c>/cluster</c> and <c>/cluster/shards</c> (read access to the cluster).</summary>
    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/cluster", (ActorSystem system) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            var state = cluster.State;
            return Results.Ok(new ClusterView(
                cluster.SelfAddress.ToString(),
                state.Leader?.ToString(),
                state.Members.Select(m => new MemberView(m.Address.ToString(), m.Status.ToString(), [.. m.Roles])).ToList(),
                state.Unreachable.Select(m => m.Address.ToString()).ToList()));
        }).RequireGridAccess(GridAccess.Read, GridResource.Cluster);

        // Administration (SPEC §15): make a member leave gracefully (its shards hand off first) or down it (for a member
        // that is gone and will not come back: the split-brain resolver would down it too, later).
        endpoints.MapPost("/cluster/leave", (HttpRequest request, ActorSystem system, CancellationToken ct) =>
            MembershipAsync(request, system, "leave", (cluster, address) => cluster.Leave(address), ct))
            .RequireGridAccess(GridAccess.Admin, GridResource.Cluster);
        endpoints.MapPost("/cluster/down", (HttpRequest request, ActorSystem system, CancellationToken ct) =>
            MembershipAsync(request, system, "down", (cluster, address) => cluster.Down(address), ct))
            .RequireGridAccess(GridAccess.Admin, GridResource.Cluster);

        endpoints.MapGet("/cluster/shards", async (ActorSystem system, ActorGridBuilder grid, CancellationToken cancellationToken) =>
        {
            var sharding = ClusterSharding.Get(system);

            // All regions at once: with a member unreachable each waits out the stats timeout, so in turn they would add up.
            var regions = await Task.WhenAll(grid.Roles.SelectMany(role => role.ShardTypeNames.Select(async typeName =>
            {
                var stats = await sharding.ShardRegion(typeName)
                    .Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(3)), TimeSpan.FromSeconds(5), cancellationToken);
                var load = role is IReportsShardLoad reporter
                    ? await reporter.GetShardLoadAsync(system, typeName, cancellationToken)
                    : new Dictionary<string, double>();
                var running = stats.Regions.SelectMany(r => r.Value.Stats).Where(s => s.Value > 0).Select(s => s.Key).ToList();
                var storage = role is IReportsShardStorage storing
                    ? await storing.GetShardStorageAsync(system, typeName, running, cancellationToken)
                    : new Dictionary<string, ShardStorage>();
                var shards = stats.Regions
                    .SelectMany(r => r.Value.Stats.Select(s =>
                    {
                        var held = storage.GetValueOrDefault(s.Key);
                        return new ShardView(s.Key, r.Key.ToString(), s.Value, load.TryGetValue(s.Key, out var l) ? l : null, held?.Keys, held?.Tombstones, held?.Bytes);
                    }))
                    .OrderBy(s => s.ShardId, StringComparer.Ordinal)
                    .ToList();
                return new RegionView(role.Name, typeName, shards);
            })));

            return Results.Ok(new { regions });
        }).RequireGridAccess(GridAccess.Read, GridResource.Cluster);

        return endpoints;
    }

    private static async Task<IResult> MembershipAsync(
        HttpRequest request, ActorSystem system, string action, Action<Akka.Cluster.Cluster, Address> apply, CancellationToken cancellationToken)
    {
        var body = await request.ReadFromJsonAsync<MemberRequest>(cancellationToken);
        Address address;
        try
        {
            address = Address.Parse(body?.Address ?? throw new FormatException("address is required"));
        }
        catch (Exception e) when (e is FormatException or UriFormatException or ArgumentException)
        {
            return Http.GridResults.BadRequest($"address must be a member address such as akka.tcp://actorgrid@10.0.0.5:4053 ({e.Message})");
        }

        var cluster = Akka.Cluster.Cluster.Get(system);
        if (!cluster.State.Members.Any(m => m.Address == address))
        {
            return Http.GridResults.NotFound($"'{address}' is not a member of this cluster");
        }

        apply(cluster, address);
        return Results.Accepted(value: new MemberActionView(address.ToString(), action));
    }

    /// <summary>
    /// Runs the health checks tagged <paramref name="tag"/>: 200 <c>{"status":"<paramref name="healthy"/>"}</c>, or
    /// 503 problem+json naming what failed, with <c>Retry-After</c> on readiness.
    /// </summary>
    private static async Task<IResult> HealthAsync(HealthCheckService health, HttpContext http, string tag, string healthy, string title)
    {
        var report = await health.CheckHealthAsync(c => c.Tags.Contains(tag), http.RequestAborted);
        if (report.Status == HealthStatus.Healthy)
        {
            return Results.Ok(new { status = healthy });
        }

        if (tag == ObservabilityExtensions.ReadyTag)
        {
            http.Response.Headers.RetryAfter = "1";
        }

        var failed = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => $"{e.Key}: {e.Value.Description}");
        return Results.Problem(statusCode: 503, title: title, detail: string.Join("; ", failed));
    }

    internal sealed record MemberRequest(string? Address);

    internal sealed record MemberActionView(string Address, string Action);

    internal sealed record ClusterView(string Self, string? Leader, IReadOnlyList<MemberView> Members, IReadOnlyList<string> Unreachable);

    internal sealed record MemberView(string Address, string Status, IReadOnlyList<string> Roles);

    internal sealed record RegionView(string Role, string TypeName, IReadOnlyList<ShardView> Shards);

    internal sealed record ShardView(
        string ShardId,
        string Node,
        int Entities,
        double? Load,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Keys,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Tombstones,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Bytes);
}
