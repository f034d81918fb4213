#nullable enable
using Akka.Actor;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue;

/// <summary>
/// One per node at <c>/user/kv-load</c>: the partitions hosted here report their recent ops/sec to it, and
/// <c>/cluster/shards</c> asks every node's reporter (the hot-spot view) without waking any partition up.
/// </summary>
public sealed class KvLoadReporter : ReceiveActor
{
    /// <summary>The reporter's name under <c>/user</c>.</summary>
    public const string ActorName = "kv-load";

    private readonly Dictionary<string, double> _loads = new(StringComparer.Ordinal);

    /// <summary>Creates the reporter.</summary>
    public KvLoadReporter()
    {
        var metrics = KvMetrics.For(Context.System);
        Receive<PartitionLoad>(load =>
        {
            _loads[load.EntityId] = load.OpsPerSecond;
            metrics.PartitionLoad(load.EntityId, load.OpsPerSecond);
        });
        Receive<PartitionStopped>(stopped =>
        {
            _loads.Remove(stopped.EntityId);
            metrics.PartitionStopped(stopped.EntityId);
        });
        Receive<GetPartitionLoads>(_ => Sender.Tell(new PartitionLoadsResult([.. _loads.Select(l => new PartitionLoad(l.Key, l.Value))])));
    }
}
