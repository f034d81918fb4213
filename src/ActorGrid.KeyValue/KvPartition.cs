#nullable enable
using ActorGrid.Entities;
using Akka.Actor;
using static ActorGrid.KeyValue.KvProtocol;
using Settings = ActorGrid.KeyValue.KvProtocol.Settings;

namespace ActorGrid.KeyValue;

/// <summary>
/// One KV partition: a sharded persistent entity owning many keys. Thin by design: decisions and event
/// application are <see cref="KvPartitionState"/>'s, the write path (group commit, replies after durability,
/// failures, snapshots, drain on hand-off) is <see cref="DurableEntity{TState, TCommand, TEvent}"/>'s. What it adds:
/// <list type="bullet">
/// <item>Reads are answered at once from the committed state (never from a write that is not yet durable), so
/// a read sees every acknowledged write: linearizable per key.</item>
/// <item>Applied changes are pushed to the replicas that follow the partition (replica reads).</item>
/// <item>A snapshot every <see cref="Settings.SnapshotEvery"/> events bounds recovery; older snapshots and the
/// events they cover are deleted.</item>
/// <item>Per-partition load for the hot-spot view.</item>
/// </list>
/// </summary>
public sealed class KvPartition : DurableEntity<KvPartitionState, object, object>, IWithTimers
{
    private readonly Settings _settings;
    private readonly Dictionary<IActorRef, long> _followers = [];
    private readonly LoadMeter _load;
    private readonly ActorSelection _loadReporter;
    private bool _reportingLoad;
    private IReadOnlySet<string> _purgeCandidates = new HashSet<string>();
    private bool _snapshotAfterCompaction;

    /// <summary>Creates the partition <paramref name="entityId"/> (also its persistence id).</summary>
    public KvPartition(string entityId, Settings settings, TimeProvider? time = null)
        : base(entityId, KvPartitionState.Create(settings.Idempotency), new DurableEntitySettings
        {
            SnapshotEvery = settings.SnapshotEvery,
            DeleteEventsOnSnapshot = true,
            MaxBatchEvents = settings.MaxBatchEvents,
            MaxBatchBytes = settings.MaxBatchBytes,
            Time = time ?? TimeProvider.System,
        })
    {
        _settings = settings;
        LocalReads = CommittedStates<KvPartitionState>.For(Context.System, Kind);
        _load = new LoadMeter(settings.LoadWindow);
        _loadReporter = Context.ActorSelection("/user/" + KvLoadReporter.ActorName);
    }

    /// <summary>Props of the partition <paramref name="entityId"/>.</summary>
    public static Props Props(string entityId, Settings settings) =>
        Akka.Actor.Props.Create(() => new KvPartition(entityId, settings, null));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The entity kind: journal writes, spans and <see cref="CommittedStates{TState}"/> are named by it.</summary>
    public const string Kind = "kv.partition";

    /// <inheritdoc />
    protected override string EntityKind => Kind;

    /// <inheritdoc />
    /// <remarks>Strong reads on the node that hosts the partition skip the region and the mailbox (<see cref="KvStore.TryReadLocally"/>).</remarks>
    protected override CommittedStates<KvPartitionState> LocalReads { get; }

    /// <inheritdoc />
    protected override void HandleCommand(object message)
    {
        switch (message)
        {
            case Put or Delete or Execute:
                RecordLoad();
                Submit(message, Sender);
                break;
            case Get get:
                RecordLoad();
                TryServe(Sender, State.Read(get.Key, NowUnixMs));
                break;
            case Scan scan:
                RecordLoad();
                TryServe(Sender, State.Scan(scan.Prefix, scan.After, scan.Limit, scan.MaxBytes, NowUnixMs));
                break;
            case FollowPartition follow:
                Follow(follow);
                break;
            case GetPartitionStats:
                var (live, tombstones, bytes) = State.Measure(NowUnixMs);
                Sender.Tell(new PartitionStatsResult(Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString(), CommittedSequenceNr, JournalWrites, EventsWritten, State.Count, _followers.Count, RecoveredFromSnapshotAt,
                    live, tombstones, bytes, SavedSnapshotAt));
                break;
            case CompactTombstones:
                Compact();
                break;
            case StopPartition:
                StopWhenDrained();
                break;
            case ReportLoad:
                ReportCurrentLoad();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <inheritdoc />
    protected override Decision<KvPartitionState, object> Decide(KvPartitionState state, object command)
    {
        if (command is Execute execute)
        {
            var executed = state.Decide(execute, NowUnixMs, _settings);
            return Decision<KvPartitionState, object>.Persist(executed.Events, _ => executed.Reply);
        }

        var decision = command switch
        {
            Put put => state.Decide(put, NowUnixMs, _settings),
            Delete delete => state.Decide(delete, NowUnixMs),
            _ => throw new InvalidOperationException(command.GetType().Name),
        };
        var reply = decision.Reply;
        return decision.Event is { } e ? Decision<KvPartitionState, object>.Persist(e, _ => reply) : Decision<KvPartitionState, object>.Respond(reply);
    }

    /// <inheritdoc />
    protected override KvPartitionState Apply(KvPartitionState state, object @event) => state.Apply(@event);

    /// <inheritdoc />
    protected override long SizeOf(object @event) => @event is ValueWritten w ? w.Value.Length : 0;

    /// <inheritdoc />
    protected override object ErrorReply(object command, EntityFailure failure, string detail) => command is Execute
        ? new ExecuteResult(ExecuteStatus.Failed, [], detail)
        : new WriteResult(WriteStatus.Unavailable, 0, detail);

    /// <inheritdoc />
    protected override object? ToSnapshot(KvPartitionState state) => state.ToSnapshot(NowUnixMs);

    /// <inheritdoc />
    protected override KvPartitionState FromSnapshot(object snapshot) => KvPartitionState.FromSnapshot((PartitionSnapshot)snapshot, _settings.Idempotency);

    /// <inheritdoc />
    protected override void OnCommitted(IReadOnlyList<object> events, long firstSequenceNr)
    {
        PublishToFollowers(firstSequenceNr, events);
        if (_snapshotAfterCompaction)
        {
            SaveSnapshotNow();
        }
    }

    /// <inheritdoc />
    protected override void OnRecoveryCompleted()
    {
        Timers.StartPeriodicTimer(nameof(CompactTombstones), CompactTombstones.Instance, _settings.TombstoneGracePeriod);
        // Reads served from the committed state never pass the mailbox: the report timer runs always to count them.
        Timers.StartPeriodicTimer(nameof(ReportLoad), ReportLoad.Instance, TimeSpan.FromSeconds(1));
    }

    /// <inheritdoc />
    protected override void OnSnapshotSaved(Akka.Persistence.SnapshotMetadata metadata) => _snapshotAfterCompaction = false;

    /// <summary>
    /// Purges the tombstones seen at the previous round (so each one is at least a grace period old) and values
    /// expired for a grace period, then snapshots so that recovery no longer sees them either (the snapshot deletes
    /// the events before it). Memory only until that snapshot: a recovery before it replays the tombstones and a
    /// later round purges them again. Reads never see the difference.
    /// </summary>
    private void Compact()
    {
        var compacted = State.Compact(_purgeCandidates, NowUnixMs, (long)_settings.TombstoneGracePeriod.TotalMilliseconds);
        if (!ReferenceEquals(compacted, State))
        {
            State = compacted;
            _snapshotAfterCompaction = true;
        }

        _purgeCandidates = State.Tombstones();
        if (_snapshotAfterCompaction)
        {
            SaveSnapshotNow();
        }
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _loadReporter.Tell(new PartitionStopped(PersistenceId));
        base.PostStop();
    }

    private void Follow(FollowPartition follow)
    {
        _followers[Sender] = NowUnixMs + (long)(_settings.ReplicaRefreshInterval.TotalMilliseconds * 3) + 1000;
        if (follow.AppliedSequenceNr < 0)
        {
            SendCopy(Sender);
        }
        else
        {
            Sender.Tell(new ReplicaHeartbeat(PersistenceId, CommittedSequenceNr));
        }
    }

    private void SendCopy(IActorRef replica)
    {
        var now = NowUnixMs;
        var chunk = new List<Entry>();
        var bytes = 0L;
        var first = true;
        foreach (var entry in State.Entries)
        {
            if (!entry.IsLiveAt(now))
            {
                continue;
            }

            if (chunk.Count > 0 && bytes + entry.WireSize() > _settings.ChunkBytes)
            {
                replica.Tell(new ReplicaSyncChunk(PersistenceId, CommittedSequenceNr, [.. chunk], first, Last: false));
                first = false;
                chunk.Clear();
                bytes = 0;
            }

            chunk.Add(entry);
            bytes += entry.WireSize();
        }

        replica.Tell(new ReplicaSyncChunk(PersistenceId, CommittedSequenceNr, [.. chunk], first, Last: true));
    }

    private void PublishToFollowers(long fromSeq, IReadOnlyList<object> events)
    {
        if (_followers.Count == 0)
        {
            return;
        }

        var now = NowUnixMs;
        foreach (var expired in _followers.Where(f => f.Value < now).Select(f => f.Key).ToList())
        {
            _followers.Remove(expired);
        }

        // One delta per run of events that fits a remoting frame; each change is the entry its event left behind.
        var changes = new List<Entry>();
        var bytes = 0L;
        var start = fromSeq;
        for (var i = 0; i < events.Count; i++)
        {
            var entry = KvPartitionState.EntryOf(events[i]);
            var size = entry.WireSize();
            if (changes.Count > 0 && bytes + size > _settings.ChunkBytes)
            {
                Publish(new ReplicaDelta(PersistenceId, start, start + changes.Count - 1, [.. changes]));
                start += changes.Count;
                changes.Clear();
                bytes = 0;
            }

            changes.Add(entry);
            bytes += size;
        }

        Publish(new ReplicaDelta(PersistenceId, start, start + changes.Count - 1, [.. changes]));
    }

    private void Publish(ReplicaDelta delta)
    {
        foreach (var follower in _followers.Keys)
        {
            follower.Tell(delta);
        }
    }

    private void RecordLoad() => _load.Record(NowUnixMs);

    private void ReportCurrentLoad()
    {
        var now = NowUnixMs;
        if (TakeLocalReads() is var localReads and > 0)
        {
            _load.Record(now, localReads);
        }

        // Idle partitions say so once, then stay quiet.
        var rate = _load.Rate(now);
        if (rate > 0 || _reportingLoad)
        {
            _loadReporter.Tell(new PartitionLoad(PersistenceId, rate));
        }

        _reportingLoad = rate > 0;
    }

    private sealed class ReportLoad
    {
        public static readonly ReportLoad Instance = new();
    }

    private sealed class CompactTombstones
    {
        public static readonly CompactTombstones Instance = new();
    }
}
