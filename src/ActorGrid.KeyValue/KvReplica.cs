#nullable enable
using Akka.Actor;
using static ActorGrid.KeyValue.KvProtocol;
using Settings = ActorGrid.KeyValue.KvProtocol.Settings;

namespace ActorGrid.KeyValue;

/// <summary>
/// One per node at <c>/user/kv-replica</c>: serves <c>consistency=replica</c> reads from local copies of the
/// partitions that were read through this node. A partition is followed from its first replica read: the
/// replica asks the partition for a full copy, then the partition pushes the entries its journaled events
/// changed. Every refresh interval the replica renews its subscription and hears the partition's last event
/// number, so it knows when it missed something (it then asks for a new copy, still serving the old one) and how
/// long ago it was last confirmed in step with the partition: that age is the staleness it reports. A partition
/// nobody read through this node for <see cref="Settings.ReplicaIdleAfter"/> is dropped.
/// </summary>
public sealed class KvReplica : ReceiveActor, IWithTimers
{
    /// <summary>The replica's name under <c>/user</c>.</summary>
    public const string ActorName = "kv-replica";

    private readonly IActorRef _region;
    private readonly Settings _settings;
    private readonly Func<long> _clock;
    private readonly Dictionary<string, View> _views = new(StringComparer.Ordinal);
    private readonly KvMetrics _metrics = KvMetrics.For(Context.System);

    /// <summary>Creates the replica; it reaches partitions through <paramref name="region"/> (a region or a proxy).</summary>
    public KvReplica(IActorRef region, Settings settings, Func<long>? clock = null)
    {
        _region = region;
        _settings = settings;
        _clock = clock ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        Receive<ReadReplica>(Read);
        Receive<ReplicaSyncChunk>(OnChunk);
        Receive<ReplicaDelta>(OnDelta);
        Receive<ReplicaHeartbeat>(OnHeartbeat);
        Receive<Refresh>(_ => OnRefresh());
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props of the replica.</summary>
    public static Props Props(IActorRef region, Settings settings) =>
        Akka.Actor.Props.Create(() => new KvReplica(region, settings, null));

    /// <summary>Reads <paramref name="Key"/> from this node's copy of partition <paramref name="EntityId"/> (local message).</summary>
    public sealed record ReadReplica(string EntityId, string Key);

    /// <summary>The replica could not get a copy of the partition in time (local message).</summary>
    public sealed record ReplicaUnavailable(string Reason);

    /// <inheritdoc />
    protected override void PreStart() =>
        Timers.StartPeriodicTimer(nameof(Refresh), Refresh.Instance, _settings.ReplicaRefreshInterval);

    private void Read(ReadReplica read)
    {
        var now = _clock();
        if (!_views.TryGetValue(read.EntityId, out var view))
        {
            view = new View();
            _views[read.EntityId] = view;
            RequestCopy(read.EntityId, view);
        }

        view.LastReadAt = now;
        if (view.Synced)
        {
            Sender.Tell(Answer(view, read.Key, now));
        }
        else
        {
            view.Waiting.Add((read.Key, Sender, now + (long)_settings.AskTimeout.TotalMilliseconds));
        }
    }

    private void OnChunk(ReplicaSyncChunk chunk)
    {
        if (!_views.TryGetValue(chunk.EntityId, out var view))
        {
            return;
        }

        if (chunk.First)
        {
            view.Incoming = [];
            view.IncomingSeq = chunk.SequenceNr;
        }
        else if (view.Incoming is null || view.IncomingSeq != chunk.SequenceNr)
        {
            return;
        }

        view.Incoming.AddRange(chunk.Entries);
        if (!chunk.Last)
        {
            return;
        }

        var now = _clock();
        view.State = KvPartitionState.FromEntries(view.Incoming);
        view.Incoming = null;
        view.Applied = chunk.SequenceNr;
        view.KnownSeq = Math.Max(view.KnownSeq, chunk.SequenceNr);
        view.ConfirmedAt = now;
        view.Synced = true;
        view.CopyRequested = false;
        foreach (var (key, sender, _) in view.Waiting)
        {
            sender.Tell(Answer(view, key, now));
        }

        view.Waiting.Clear();
    }

    private void OnDelta(ReplicaDelta delta)
    {
        if (!_views.TryGetValue(delta.EntityId, out var view) || !view.Synced)
        {
            // Not followed, or a copy is on its way that already holds this delta.
            return;
        }

        view.KnownSeq = Math.Max(view.KnownSeq, delta.ToSequenceNr);
        if (delta.FromSequenceNr == view.Applied + 1)
        {
            var state = view.State;
            foreach (var change in delta.Changes)
            {
                state = state.Set(change);
            }

            view.State = state;
            view.Applied = delta.ToSequenceNr;
            view.ConfirmedAt = _clock();
        }
        else if (delta.FromSequenceNr > view.Applied + 1)
        {
            RequestCopy(delta.EntityId, view);
        }
    }

    private void OnHeartbeat(ReplicaHeartbeat heartbeat)
    {
        if (!_views.TryGetValue(heartbeat.EntityId, out var view) || !view.Synced)
        {
            return;
        }

        // The partition sends its deltas and heartbeats in order, so a heartbeat ahead of what was applied means
        // a delta was lost (remoting is at-most-once), and one behind means the journal was replaced: copy again.
        view.KnownSeq = Math.Max(view.KnownSeq, heartbeat.SequenceNr);
        if (heartbeat.SequenceNr == view.Applied)
        {
            view.ConfirmedAt = _clock();
        }
        else
        {
            RequestCopy(heartbeat.EntityId, view);
        }
    }

    private void OnRefresh()
    {
        var now = _clock();
        foreach (var (entityId, view) in _views.ToList())
        {
            foreach (var waiting in view.Waiting.Where(w => w.Deadline <= now).ToList())
            {
                waiting.Sender.Tell(new ReplicaUnavailable($"no copy of partition {entityId} arrived in time"));
                view.Waiting.Remove(waiting);
            }

            if (view.Waiting.Count == 0 && now - view.LastReadAt > _settings.ReplicaIdleAfter.TotalMilliseconds)
            {
                _views.Remove(entityId);
                continue;
            }

            _region.Tell(new FollowPartition(entityId, view.Synced && !view.CopyRequested ? view.Applied : -1));
        }
    }

    private void RequestCopy(string entityId, View view)
    {
        if (view.CopyRequested)
        {
            return;
        }

        view.CopyRequested = true;
        _region.Tell(new FollowPartition(entityId, -1));
    }

    private GetResult Answer(View view, string key, long now)
    {
        var (staleness, behind) = (Math.Max(0, now - view.ConfirmedAt), view.KnownSeq - view.Applied);
        _metrics.ReplicaRead(staleness, behind);
        return view.State.Read(key, now) with { StalenessMs = staleness, EventsBehind = behind };
    }

    private sealed class View
    {
        public KvPartitionState State { get; set; } = KvPartitionState.Empty;

        public bool Synced { get; set; }

        public bool CopyRequested { get; set; }

        public long Applied { get; set; } = -1;

        public long KnownSeq { get; set; }

        public long ConfirmedAt { get; set; }

        public long LastReadAt { get; set; }

        public List<Entry>? Incoming { get; set; }

        public long IncomingSeq { get; set; }

        public List<(string Key, IActorRef Sender, long Deadline)> Waiting { get; } = [];
    }

    private sealed class Refresh
    {
        public static readonly Refresh Instance = new();
    }
}
