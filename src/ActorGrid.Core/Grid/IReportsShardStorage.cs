#nullable enable
using Akka.Actor;

namespace ActorGrid.Grid;

/// <summary>What a shard holds: live keys, tombstones (deleted or expired, not yet purged) and bytes.</summary>
public sealed record ShardStorage(long Keys, long Tombstones, long Bytes);

/// <summary>A role that can say what its running shards hold (<c>/cluster/shards</c>, SPEC §15).</summary>
public interface IReportsShardStorage
{
    /// <summary>What each of <paramref name="shardIds"/> (running shards of <paramref name="typeName"/>) holds; shards that do not answer are left out.</summary>
    Task<IReadOnlyDictionary<string, ShardStorage>> GetShardStorageAsync(
        ActorSystem system, string typeName, IReadOnlyCollection<string> shardIds, CancellationToken cancellationToken);
}
