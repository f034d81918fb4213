#nullable enable
namespace ActorGrid.Broker;

/// <summary>
/// What a broker entity receives instead of a <c>PoisonPill</c> when its shard hands off or it is passivated: it
/// stops once the journal write in flight and the appends buffered behind it are done, so that a graceful leave or
/// a rebalance fails no request that was already accepted. Local only (sent by the entity's own shard).
/// </summary>
internal sealed class StopEntity
{
    public static readonly StopEntity Instance = new();

    private StopEntity()
    {
    }
}
