#nullable enable
using Akka.Actor;

namespace ActorGrid.Grid;

/// <summary>A role that can say how loaded each of its shards is (the hot-spot view of <c>/cluster/shards</c>).</summary>
public interface IReportsShardLoad
{
    /// <summary>Recent load per shard id (for example operations per second) of <paramref name="typeName"/>.</summary>
    Task<IReadOnlyDictionary<string, double>> GetShardLoadAsync(ActorSystem system, string typeName, CancellationToken cancellationToken);
}
