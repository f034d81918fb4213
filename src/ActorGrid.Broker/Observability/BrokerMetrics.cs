#nullable enable
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ActorGrid.Observability;
using Akka.Actor;

namespace ActorGrid.Broker.Observability;

/// <summary>
/// The broker's instruments on this node (meter <c>ActorGrid.Broker</c>): records produced (counted by the partition
/// that appended them) and fetched (by the node that served them), and consumer lag per group and partition of
/// the groups whose entity runs here (refreshed by <see cref="ConsumerLagSampler"/>).
/// </summary>
public sealed class BrokerMetrics
{
    private readonly Counter<long> _produced;
    private readonly Counter<long> _fetched;
    private volatile IReadOnlyList<(string Group, string Topic, int Partition, long Lag)> _lags = [];

    private BrokerMetrics(Meter meter)
    {
        _produced = meter.CreateCounter<long>("actorgrid.broker.records.produced", "{record}", "Records appended to partitions hosted on this node");
        _fetched = meter.CreateCounter<long>("actorgrid.broker.records.fetched", "{record}", "Records served to consumers by this node (partition reads and group polls)");
        meter.CreateObservableGauge("actorgrid.broker.consumer.lag", () => _lags.Select(l => new Measurement<long>(l.Lag, new TagList
        {
            { "actorgrid.group", l.Group },
            { "actorgrid.topic", l.Topic },
            { "actorgrid.partition", l.Partition },
        })), "{record}", "Records between a consumer group's committed offset and the partition's end, per group and partition");
    }

    /// <summary>The broker instruments of <paramref name="system"/>'s node.</summary>
    public static BrokerMetrics For(ActorSystem system) => NodeTelemetry.For(system).Get(t => new BrokerMetrics(t.Meter(GridTelemetry.BrokerMeter)));

    internal void Produced(string topic, int records) => _produced.Add(records, new KeyValuePair<string, object?>("actorgrid.topic", topic));

    internal void Fetched(string topic, string via, int records)
    {
        if (records > 0)
        {
            _fetched.Add(records, new TagList { { "actorgrid.topic", topic }, { "actorgrid.fetch", via } });
        }
    }

    internal void Lags(IReadOnlyList<(string Group, string Topic, int Partition, long Lag)> lags) => _lags = lags;
}
