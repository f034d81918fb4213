#nullable enable
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace ActorGrid.Observability;

/// <summary>
/// Membership and shard placement as this node sees them (meter <c>ActorGrid.Cluster</c>): members by status,
/// unreachable members, members downed (the split-brain resolver's decisions), shards and entities hosted here
/// per sharding type, and shards arriving at or handed off from this node.
/// </summary>
public sealed class ClusterMetrics
{
    private readonly ConcurrentDictionary<string, (int Shards, int Entities)> _placement = new(StringComparer.Ordinal);
    private readonly Counter<long> _downed;
    private readonly Counter<long> _unreachableEvents;
    private readonly Counter<long> _shardMoves;

    private ClusterMetrics(Meter meter, Cluster cluster)
    {
        meter.CreateObservableGauge("actorgrid.cluster.members", () => MembersByStatus(cluster.State), "{member}",
            "Cluster members this node sees, by status");
        meter.CreateObservableGauge("actorgrid.cluster.members.unreachable", () => cluster.State.Unreachable.Count, "{member}",
            "Members this node's failure detector marks unreachable");
        meter.CreateObservableGauge("actorgrid.cluster.leader", () => cluster.State.Leader == cluster.SelfAddress ? 1 : 0, "{node}",
            "1 while this node is the cluster leader");
        meter.CreateObservableGauge("actorgrid.cluster.shards", () => Placement(p => p.Shards), "{shard}",
            "Shards hosted on this node, by sharding type");
        meter.CreateObservableGauge("actorgrid.cluster.entities", () => Placement(p => p.Entities), "{entity}",
            "Entities running on this node, by sharding type");
        _downed = meter.CreateCounter<long>("actorgrid.cluster.members.downed", "{member}",
            "Members downed (split-brain resolver decisions) as seen by this node");
        _unreachableEvents = meter.CreateCounter<long>("actorgrid.cluster.unreachable.events", "{event}",
            "Times a member became unreachable (or reachable again) as seen by this node");
        _shardMoves = meter.CreateCounter<long>("actorgrid.cluster.shard.moves", "{shard}",
            "Shards allocated to (direction=in) or handed off from (direction=out) this node");
    }

    /// <summary>Starts the instruments and the actor that follows membership and polls this node's shard regions.</summary>
    public static ClusterMetrics Start(ActorSystem system, TimeSpan pollInterval) =>
        NodeTelemetry.For(system).Get(t =>
        {
            var metrics = new ClusterMetrics(t.Meter(GridTelemetry.ClusterMeter), Cluster.Get(system));
            system.ActorOf(Props.Create(() => new ClusterObserver(metrics, pollInterval)), "actorgrid-cluster-telemetry");
            return metrics;
        });

    private static IEnumerable<Measurement<int>> MembersByStatus(ClusterEvent.CurrentClusterState state) =>
        state.Members.GroupBy(m => m.Status)
            .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("actorgrid.member.status", g.Key.ToString())));

    private IEnumerable<Measurement<int>> Placement(Func<(int Shards, int Entities), int> pick) =>
        _placement.Select(p => new Measurement<int>(pick(p.Value), new KeyValuePair<string, object?>("actorgrid.shard.type", p.Key)));

    /// <summary>Follows membership events and this node's shard regions.</summary>
    private sealed class ClusterObserver : ReceiveActor, IWithTimers
    {
        private readonly Dictionary<string, ImmutableHashSet<string>> _shards = new(StringComparer.Ordinal);
        private readonly TimeSpan _pollInterval;

        public ClusterObserver(ClusterMetrics metrics, TimeSpan pollInterval)
        {
            _pollInterval = pollInterval;
            var sharding = ClusterSharding.Get(Context.System);
            Receive<ClusterEvent.MemberDowned>(_ => metrics._downed.Add(1));
            Receive<ClusterEvent.UnreachableMember>(_ => metrics._unreachableEvents.Add(1, new KeyValuePair<string, object?>("actorgrid.reachability", "unreachable")));
            Receive<ClusterEvent.ReachableMember>(_ => metrics._unreachableEvents.Add(1, new KeyValuePair<string, object?>("actorgrid.reachability", "reachable")));
            Receive<Poll>(_ =>
            {
                foreach (var typeName in sharding.ShardTypeNames)
                {
                    var region = sharding.ShardRegion(typeName);
                    region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, pollInterval)
                        .PipeTo(Self, success: state => new RegionState(typeName, state), failure: _ => new RegionState(typeName, null));
                }
            });
            Receive<RegionState>(r =>
            {
                if (r.State is null)
                {
                    return;
                }

                var now = r.State.Shards.Select(s => s.ShardId).ToImmutableHashSet();
                var before = _shards.GetValueOrDefault(r.TypeName, ImmutableHashSet<string>.Empty);
                var tags = new TagList { { "actorgrid.shard.type", r.TypeName } };
                if (now.Except(before).Count is var arrived and > 0)
                {
                    var inTags = tags;
                    inTags.Add("direction", "in");
                    metrics._shardMoves.Add(arrived, inTags);
                }

                if (before.Except(now).Count is var left and > 0)
                {
                    var outTags = tags;
                    outTags.Add("direction", "out");
                    metrics._shardMoves.Add(left, outTags);
                }

                _shards[r.TypeName] = now;
                metrics._placement[r.TypeName] = (now.Count, r.State.Shards.Sum(s => s.EntityIds.Count));
            });
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            var cluster = Cluster.Get(Context.System);
            cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.MemberDowned), typeof(ClusterEvent.IReachabilityEvent));
            Timers.StartPeriodicTimer(nameof(Poll), Poll.Instance, TimeSpan.Zero, _pollInterval);
        }

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

        private sealed record RegionState(string TypeName, CurrentShardRegionState? State);

        private sealed class Poll
        {
            public static readonly Poll Instance = new();
        }
    }
}
