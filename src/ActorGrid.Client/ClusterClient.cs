#nullable enable
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace ActorGrid.Client;

/// <summary>Cluster membership, health and shard placement (<see cref="ClusterClient"/>).</summary>
public interface IClusterClient
{
    Task<ClusterStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    Task<ShardsStatus> GetShardsAsync(CancellationToken cancellationToken = default);

    Task<bool> IsReadyAsync(CancellationToken cancellationToken = default);

    Task LeaveAsync(string address, CancellationToken cancellationToken = default);

    Task DownAsync(string address, CancellationToken cancellationToken = default);
}

/// <summary>Cluster membership, health and shard placement.</summary>
public sealed class ClusterClient(HttpClient http) : IClusterClient
{
    /// <summary><c>GET /cluster</c>: this node, the leader, members and unreachable nodes.</summary>
    public async Task<ClusterStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("cluster", cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<ClusterStatus>(cancellationToken))!;
    }

    /// <summary><c>GET /cluster/shards</c>: per role, each shard's owner, entity count and recent load.</summary>
    public async Task<ShardsStatus> GetShardsAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("cluster/shards", cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<ShardsStatus>(cancellationToken))!;
    }

    /// <summary><c>POST /cluster/leave</c>: makes the member at <paramref name="address"/> leave gracefully (admin scope).</summary>
    public Task LeaveAsync(string address, CancellationToken cancellationToken = default) => MembershipAsync("cluster/leave", address, cancellationToken);

    /// <summary><c>POST /cluster/down</c>: downs the member at <paramref name="address"/>, which must be gone for good (admin scope).</summary>
    public Task DownAsync(string address, CancellationToken cancellationToken = default) => MembershipAsync("cluster/down", address, cancellationToken);

    private async Task MembershipAsync(string path, string address, CancellationToken cancellationToken)
    {
        // Leaving or downing twice has the effect of once.
        using var response = await http.SendJsonAsync(HttpMethod.Post, path, new { address }, idempotent: true, cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
    }

    /// <summary><c>GET /health/ready</c>: whether the node is Up with its shard regions started.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("health/ready", cancellationToken);
        return response.IsSuccessStatusCode;
    }
}

/// <summary>The answer of <c>GET /cluster</c>.</summary>
public sealed record ClusterStatus(string Self, string? Leader, IReadOnlyList<ClusterMember> Members, IReadOnlyList<string> Unreachable);

/// <summary>One cluster member.</summary>
public sealed record ClusterMember(string Address, string Status, IReadOnlyList<string> Roles);

/// <summary>The answer of <c>GET /cluster/shards</c>.</summary>
public sealed record ShardsStatus(IReadOnlyList<RegionStatus> Regions);

/// <summary>One sharded entity type of a role.</summary>
public sealed record RegionStatus(string Role, string TypeName, IReadOnlyList<ShardStatus> Shards);

/// <summary>
/// One shard: where it lives, how many entities it holds, its recent load; for a KV partition also its live keys,
/// tombstones and bytes (null for other roles).
/// </summary>
public sealed record ShardStatus(
    string ShardId,
    string Node,
    int Entities,
    double? Load,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Keys = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Tombstones = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Bytes = null);
