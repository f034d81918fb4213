#nullable enable
using ActorGrid.Configuration;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static ActorGrid.KeyValue.KvProtocol;
using Settings = ActorGrid.KeyValue.KvProtocol.Settings;

namespace ActorGrid.KeyValue;

/// <summary>
/// One KV partition: a sharded persistent entity owning many keys. Thin by design: decisions and event
/// application are <see cref="KvPartitionState"/>'s. What it adds is the write path:
/// <list type="bullet">
/// <item>Group commit: while one journal write is in flight, incoming writes are buffered and then decided and
/// written together with one <c>PersistAllAsync</c>; every write is acknowledged only once it is durable.</item>
/// <item>Reads are answered at once from the committed state (never from a write that is not yet durable), so
/// a read sees every acknowledged write: linearizable per key.</item>
/// <item>Applied changes are pushed to the replicas that follow the partition (replica reads).</item>
/// <item>A snapshot every <see cref="Settings.SnapshotEvery"/> events bounds recovery; older snapshots and the
/// events they cover are deleted.</item>
/// </list>
/// </summary>
public sealed class KvPartition : UntypedPersistentActor, IWithTimers
{
    private readonly Settings _settings;
    private readonly Func<long> _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<(object Command, IActorRef Sender)> _pending = [];
    private readonly Dictionary<IActorRef, long> _followers = [];
    private readonly LoadMeter _load;
    private readonly ActorSelection _loadReporter;

    private KvPartitionState _state = KvPartitionState.Empty;
    private long _committedSeq;
    private long _eventsSinceSnapshot;
    private Batch? _batch;
    private bool _reportingLoad;
    private bool _stopping;
    private long _batches;
    private long _events;
    private long _recoveredFromSnapshot;

    /// <summary>Creates the partition <paramref name="entityId"/> (also its persistence id).</summary>
    public KvPartition(string entityId, Settings settings, Func<long>? clock = null)
    {
        PersistenceId = entityId;
        _settings = settings;
        _clock = clock ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _load = new LoadMeter(settings.LoadWindow);
        _loadReporter = Context.ActorSelection("/user/" + KvLoadReporter.ActorName);
        JournalPluginId = ActorGridHocon.JournalPluginId;
        SnapshotPluginId = ActorGridHocon.SnapshotPluginId;
    }

    /// <summary>Props of the partition <paramref name="entityId"/>.</summary>
    public static Props Props(string entityId, Settings settings) =>
        Akka.Actor.Props.Create(() => new KvPartition(entityId, settings, null));

    /// <inheritdoc />
    public override string PersistenceId { get; }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: PartitionSnapshot snapshot } offer:
                _state = KvPartitionState.FromEntries(snapshot.Entries);
                _recoveredFromSnapshot = offer.Metadata.SequenceNr;
                break;
            case ValueWritten or ValueDeleted:
                _state = _state.Apply(message);
                _eventsSinceSnapshot++;
                break;
            case RecoveryCompleted:
                _committedSeq = LastSequenceNr;
                break;
        }
    }

    /// <inheritdoc />
    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case Put or Delete or Execute:
                RecordLoad();
                _pending.Add((message, Sender));
                if (_batch is null)
                {
                    Flush();
                }

                break;
            case Get get:
                RecordLoad();
                Sender.Tell(_state.Read(get.Key, _clock()));
                break;
            case Scan scan:
                RecordLoad();
                Sender.Tell(_state.Scan(scan.Prefix, scan.After, scan.Limit, scan.MaxBytes, _clock()));
                break;
            case FollowPartition follow:
                Follow(follow);
                break;
            case GetPartitionStats:
                Sender.Tell(new PartitionStatsResult(Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString(), _committedSeq, _batches, _events, _state.Count, _followers.Count, _recoveredFromSnapshot));
                break;
            case FlushPending:
                if (_batch is null)
                {
                    Flush();
                }

                StopIfDrained();
                break;
            case StopPartition:
                _stopping = true;
                StopIfDrained();
                break;
            case ReportLoad:
                ReportCurrentLoad();
                break;
            case SaveSnapshotSuccess saved:
                // Recovery now starts from this snapshot: older snapshots and the events it covers are dead weight.
                DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
                DeleteMessages(saved.Metadata.SequenceNr);
                break;
            case SaveSnapshotFailure failed:
                _log.Warning(failed.Cause, "KV partition {0}: snapshot at {1} failed; recovery replays more events", PersistenceId, failed.Metadata.SequenceNr);
                break;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess:
                break;
            case DeleteMessagesFailure or DeleteSnapshotsFailure:
                _log.Warning("KV partition {0}: cleanup after snapshot failed: {1}", PersistenceId, message);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _loadReporter.Tell(new PartitionStopped(PersistenceId));
        base.PostStop();
    }

    /// <inheritdoc />
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        if (_batch is { } batch)
        {
            // The journal refused the whole atomic write: nothing of it is stored, so every writer hears so.
            _batch = null;
            foreach (var (reply, sender) in batch.Replies)
            {
                sender.Tell(reply switch
                {
                    WriteResult { Status: WriteStatus.Written or WriteStatus.Deleted } => new WriteResult(WriteStatus.Invalid, 0, "the journal rejected the write: " + cause.Message),
                    ExecuteResult { Status: ExecuteStatus.Done } => new ExecuteResult(ExecuteStatus.Failed, [], "the journal rejected the write: " + cause.Message),
                    _ => reply,
                });
            }

            Self.Tell(FlushPending.Instance);
        }
    }

    private void StopIfDrained()
    {
        if (_stopping && _batch is null && _pending.Count == 0)
        {
            Context.Stop(Self);
        }
    }

    private void Flush()
    {
        while (_pending.Count > 0 && _batch is null)
        {
            var now = _clock();
            var working = _state;
            var events = new List<object>();
            var replies = new List<(object Reply, IActorRef Sender)>();
            var bytes = 0L;
            var taken = 0;
            foreach (var (command, sender) in _pending)
            {
                if (events.Count >= _settings.MaxBatchEvents || (events.Count > 0 && bytes >= _settings.MaxBatchBytes))
                {
                    break;
                }

                var (decided, reply) = command switch
                {
                    Put put => One(working.Decide(put, now, _settings)),
                    Delete delete => One(working.Decide(delete, now)),
                    Execute execute => Many(working.Decide(execute, now, _settings)),
                    _ => throw new InvalidOperationException(command.GetType().Name),
                };
                foreach (var @event in decided)
                {
                    events.Add(@event);
                    working = working.Apply(@event);
                    bytes += @event is ValueWritten w ? w.Value.Length : 0;
                }

                replies.Add((reply, sender));
                taken++;
            }

            _pending.RemoveRange(0, taken);
            if (events.Count == 0)
            {
                // Only refusals, decided against the committed state: nothing to wait for.
                foreach (var (reply, sender) in replies)
                {
                    sender.Tell(reply);
                }

                continue;
            }

            var batch = new Batch(events, working, replies);
            _batch = batch;
            var remaining = events.Count;
            PersistAllAsync(events, _ =>
            {
                if (--remaining == 0 && ReferenceEquals(_batch, batch))
                {
                    Commit(batch);
                }
            });
        }
    }

    private void Commit(Batch batch)
    {
        _batch = null;
        _state = batch.State;

        // Nothing else is in flight, so the last confirmed sequence number is this batch's last event (rejected
        // writes consume sequence numbers too, so counting events alone could drift).
        _committedSeq = LastSequenceNr;
        var from = _committedSeq - batch.Events.Count + 1;
        _batches++;
        _events += batch.Events.Count;

        // Replies only now: refusals in the batch may have been decided against writes of the same batch.
        foreach (var (reply, sender) in batch.Replies)
        {
            sender.Tell(reply);
        }

        PublishToFollowers(from, batch.Events);

        _eventsSinceSnapshot += batch.Events.Count;
        if (_eventsSinceSnapshot >= _settings.SnapshotEvery)
        {
            _eventsSinceSnapshot = 0;

            // Nothing is in flight here, so the snapshot's sequence number is exactly the state it holds.
            SaveSnapshot(_state.ToSnapshot(_clock()));
        }

        // Writes that arrived during this one go out together; via the mailbox so any that are already queued join.
        Self.Tell(FlushPending.Instance);
    }

    private void Follow(FollowPartition follow)
    {
        var now = _clock();
        _followers[Sender] = now + (long)(_settings.ReplicaRefreshInterval.TotalMilliseconds * 3) + 1000;
        if (follow.AppliedSequenceNr < 0)
        {
            SendCopy(Sender);
        }
        else
        {
            Sender.Tell(new ReplicaHeartbeat(PersistenceId, _committedSeq));
        }
    }

    private void SendCopy(IActorRef replica)
    {
        var now = _clock();
        var chunk = new List<Entry>();
        var bytes = 0L;
        var first = true;
        foreach (var entry in _state.Entries)
        {
            if (!entry.IsLiveAt(now))
            {
                continue;
            }

            if (chunk.Count > 0 && bytes + entry.Value!.Length > _settings.ChunkBytes)
            {
                replica.Tell(new ReplicaSyncChunk(PersistenceId, _committedSeq, [.. chunk], first, Last: false));
                first = false;
                chunk.Clear();
                bytes = 0;
            }

            chunk.Add(entry);
            bytes += entry.Value!.Length;
        }

        replica.Tell(new ReplicaSyncChunk(PersistenceId, _committedSeq, [.. chunk], first, Last: true));
    }

    private void PublishToFollowers(long fromSeq, IReadOnlyList<object> events)
    {
        if (_followers.Count == 0)
        {
            return;
        }

        var now = _clock();
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
            var size = entry.Value?.Length ?? 0;
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

    private void RecordLoad()
    {
        _load.Record(_clock());
        if (!_reportingLoad)
        {
            _reportingLoad = true;
            Timers.StartPeriodicTimer(nameof(ReportLoad), ReportLoad.Instance, TimeSpan.FromSeconds(1));
        }
    }

    private void ReportCurrentLoad()
    {
        var rate = _load.Rate(_clock());
        _loadReporter.Tell(new PartitionLoad(PersistenceId, rate));
        if (rate == 0)
        {
            _reportingLoad = false;
            Timers.Cancel(nameof(ReportLoad));
        }
    }

    private static (IReadOnlyList<object> Events, object Reply) One(KvDecision decision) =>
        (decision.Event is { } e ? [e] : [], decision.Reply);

    private static (IReadOnlyList<object> Events, object Reply) Many(ExecuteDecision decision) => (decision.Events, decision.Reply);

    private sealed record Batch(IReadOnlyList<object> Events, KvPartitionState State, IReadOnlyList<(object Reply, IActorRef Sender)> Replies);

    private sealed class FlushPending
    {
        public static readonly FlushPending Instance = new();
    }

    private sealed class ReportLoad
    {
        public static readonly ReportLoad Instance = new();
    }
}
