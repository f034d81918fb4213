#nullable enable
namespace ActorGrid.MapReduce;

/// <summary>
/// What a MapReduce entity receives instead of a <c>PoisonPill</c> when its shard hands off or it is passivated: it
/// stops once the journal write in flight and the commands queued behind it are answered, so that a graceful leave
/// or a rebalance fails no command that was already accepted. Local only (sent by the entity's own shard).
/// </summary>
internal sealed class StopEntity
{
    public static readonly StopEntity Instance = new();

    private StopEntity()
    {
    }
}
