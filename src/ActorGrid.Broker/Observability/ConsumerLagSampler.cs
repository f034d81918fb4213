#nullable enable
using ActorGrid.Broker.Gateway;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Settings = ActorGrid.Broker.BrokerProtocol.Settings;

namespace ActorGrid.Broker.Observability;

/// <summary>
/// One per broker node: every <see cref="Interval"/> it describes the consumer groups whose entity runs on this
/// node (so each group is reported by exactly one node) and hands their lag to <see cref="BrokerMetrics"/>.
/// </summary>
internal sealed class ConsumerLagSampler : ReceiveActor, IWithTimers
{
    public const string ActorName = "broker-lag";

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private bool _sampling;

    public ConsumerLagSampler(Settings settings)
    {
        var gateway = new BrokerGateway(Context.System, settings);
        var metrics = BrokerMetrics.For(Context.System);
        var groups = ActorRegistry.For(Context.System).Get<ConsumerGroupRegion>();
        Receive<Tick>(_ =>
        {
            if (_sampling)
            {
                return;
            }

            _sampling = true;
            SampleAsync(groups, gateway).PipeTo(Self, success: lags => new Sampled(lags), failure: _ => new Sampled(null));
        });
        Receive<Sampled>(sampled =>
        {
            _sampling = false;
            if (sampled.Lags is { } lags)
            {
                metrics.Lags(lags);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(Settings settings) => Props.Create(() => new ConsumerLagSampler(settings));

    protected override void PreStart() => Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, Interval);

    private static async Task<IReadOnlyList<(string, string, int, long)>> SampleAsync(IActorRef groups, BrokerGateway gateway)
    {
        var state = await groups.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Interval);
        var names = state.Shards.SelectMany(s => s.EntityIds).ToList();
        var views = await Task.WhenAll(names.Select(async name =>
        {
            try
            {
                return await gateway.DescribeGroupAsync(name, CancellationToken.None);
            }
            catch (BrokerRequestException)
            {
                return null; // no members and no committed offsets: nothing to lag behind
            }
        }));
        return [.. views.OfType<GroupView>().SelectMany(v => v.Partitions.Select(p => (v.Description.Group, p.Topic, p.Partition, p.Lag)))];
    }

    private sealed record Sampled(IReadOnlyList<(string, string, int, long)>? Lags);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
