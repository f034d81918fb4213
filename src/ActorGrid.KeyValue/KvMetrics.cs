#nullable enable
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ActorGrid.Observability;
using Akka.Actor;

namespace ActorGrid.KeyValue;

/// <summary>
/// The KV role's instruments on this node (meter <c>ActorGrid.Kv</c>): recent load per hosted partition (the
/// hot-spot view) and how stale replica reads were.
/// </summary>
public sealed class KvMetrics
{
    private readonly ConcurrentDictionary<string, double> _load = new(StringComparer.Ordinal);
    private readonly Histogram<double> _staleness;
    private readonly Histogram<long> _eventsBehind;

    private KvMetrics(Meter meter)
    {
        meter.CreateObservableGauge("actorgrid.kv.partition.load",
            () => _load.Select(l => new Measurement<double>(l.Value, new KeyValuePair<string, object?>("actorgrid.partition", l.Key))),
            "{operation}/s", "Recent operations per second of each KV partition hosted on this node");
        meter.CreateObservableGauge("actorgrid.kv.partitions", () => _load.Count, "{partition}",
            "KV partitions hosted on this node that served requests recently");
        _staleness = meter.CreateHistogram<double>("actorgrid.kv.replica.staleness", "s",
            "How old the newest confirmation of a replica was when it answered a read",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _eventsBehind = meter.CreateHistogram<long>("actorgrid.kv.replica.events_behind", "{event}",
            "Events a replica knew of but had not applied when it answered a read",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [0, 1, 2, 5, 10, 50, 100, 1000] });
    }

    /// <summary>The KV instruments of <paramref name="system"/>'s node.</summary>
    public static KvMetrics For(ActorSystem system) => NodeTelemetry.For(system).Get(t => new KvMetrics(t.Meter(GridTelemetry.KvMeter)));

    internal void PartitionLoad(string entityId, double opsPerSecond) => _load[entityId] = opsPerSecond;

    internal void PartitionStopped(string entityId) => _load.TryRemove(entityId, out _);

    internal void ReplicaRead(long stalenessMs, long eventsBehind)
    {
        _staleness.Record(stalenessMs / 1000.0);
        _eventsBehind.Record(eventsBehind);
    }
}
