#nullable enable
using ActorGrid.Broker.Observability;
using ActorGrid.Entities;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using static ActorGrid.Broker.BrokerProtocol;
using Settings = ActorGrid.Broker.BrokerProtocol.Settings;

namespace ActorGrid.Broker.Partitions;

/// <summary>
/// One topic partition: a durable log with one event per record, on the grid's one write path
/// (<see cref="DurableEntity{TState, TCommand, TEvent}"/>): appends that arrive while a journal write is in flight
/// are written together as the next batch (group commit); every append is acknowledged only after its write.
/// Recent records are served from memory, older ones page from the journal; fetches at the end of the log can wait
/// for new records (long poll). A deleted topic's partition deletes its records and snapshots from the journal.
/// </summary>
internal sealed class TopicPartitionEntity : DurableEntity<PartitionState, AppendRecords, RecordAppended>, IWithTimers
{
    private readonly string _topic;
    private readonly int _partition;
    private readonly Settings _settings;
    private readonly IActorRef _topics;
    private readonly BrokerMetrics _metrics = BrokerMetrics.For(Context.System);
    private readonly Dictionary<long, Waiter> _waiters = [];
    private readonly Queue<PendingRead> _readQueue = new();
    private Action<object> _mode;
    private TopicConfig? _config;
    private long _nextWaiterId;
    private int _journalReads;
    private long? _snapshotStartOffset;
    private long _deletedBelow;
    private bool _retentionMovedSinceSnapshot;
    private readonly List<IActorRef> _deletionReplyTo = [];

    public TopicPartitionEntity(string topic, int partition, Settings settings)
        : base(PersistenceIdFor(topic, partition), new PartitionState(settings), new DurableEntitySettings
        {
            SnapshotEvery = settings.SnapshotEvery,
            // At high rates a snapshot every SnapshotEvery records would be many writes a second competing with the
            // log itself; at most one per MinSnapshotInterval keeps recovery short (≤ one interval of records) all the same.
            MinSnapshotInterval = settings.MinSnapshotInterval,
            MaxBatchEvents = settings.MaxWriteBatchRecords,
        })
    {
        _topic = topic;
        _partition = partition;
        _settings = settings;
        _topics = ActorRegistry.For(Context.System).Get<TopicRegion>();
        _mode = AwaitingConfig;
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override string EntityKind => "broker.partition";

    /// <summary>The journal id of a partition's log.</summary>
    public static string PersistenceIdFor(string topic, int partition) => $"broker/partition/{topic}/{partition}";

    /// <summary>Props for the entity <paramref name="entityId"/> (<c>t/{topic}/{partition}</c>).</summary>
    public static Props PropsFor(string entityId, Settings settings)
    {
        var slash = entityId.LastIndexOf('/');
        var topic = entityId[2..slash];
        var partition = int.Parse(entityId.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture);
        return Props.Create(() => new TopicPartitionEntity(topic, partition, settings));
    }

    /// <inheritdoc />
    protected override PartitionState Apply(PartitionState state, RecordAppended @event)
    {
        state.Apply(@event);
        return state;
    }

    /// <inheritdoc />
    protected override BatchPlan DecideBatch(PartitionState state, IReadOnlyList<AppendRecords> commands)
    {
        // The state is mutable: the whole write is planned at once and applied only once it is durable.
        var take = 0;
        var records = 0;
        while (take < commands.Count && (take == 0 || records + commands[take].Records.Length <= _settings.MaxWriteBatchRecords))
        {
            records += commands[take].Records.Length;
            take++;
        }

        var plan = state.PlanAppends(take == commands.Count ? commands : [.. commands.Take(take)], NowUnixMs);
        return new BatchPlan(take, plan.Events, plan.Replies);
    }

    /// <inheritdoc />
    protected override object ErrorReply(AppendRecords command, EntityFailure failure, string detail) =>
        new BrokerError(BrokerErrorCode.Unavailable, detail);

    /// <inheritdoc />
    protected override object? ToSnapshot(PartitionState state)
    {
        var snapshot = state.ToSnapshot();
        _snapshotStartOffset = snapshot.StartOffset;
        _retentionMovedSinceSnapshot = false;
        return snapshot;
    }

    /// <inheritdoc />
    protected override PartitionState FromSnapshot(object snapshot)
    {
        var partition = (PartitionSnapshot)snapshot;
        State.Restore(partition);
        _deletedBelow = partition.StartOffset;
        return State;
    }

    /// <inheritdoc />
    protected override void OnRecoveryCompleted()
    {
        State.AlignWithJournal(LastSequenceNr);
        _topics.Tell(new GetTopic(_topic));
        Timers.StartPeriodicTimer("config", RequestConfig.Instance, TimeSpan.FromSeconds(1));
    }

    /// <inheritdoc />
    protected override void OnCommitted(IReadOnlyList<RecordAppended> events, long firstSequenceNr)
    {
        if (IsPurging)
        {
            return;
        }

        _metrics.Produced(_topic, events.Count);
        EnforceRetention();
        WakeWaiters();
    }

    /// <inheritdoc />
    protected override void OnWriteRejected(Exception cause)
    {
        // A rejected event consumed sequence numbers and would leave a hole in the offsets: restart from the journal.
        FailQueued(EntityFailure.WriteRejected, $"the journal rejected a record ({cause.GetType().Name})");
        Context.Stop(Self);
    }

    /// <inheritdoc />
    protected override void OnSnapshotSaved(SnapshotMetadata metadata)
    {
        var start = _snapshotStartOffset ?? 0;
        _snapshotStartOffset = null;
        if (start > _deletedBelow)
        {
            // Offsets below `start` are sequence numbers up to `start`; the snapshot now carries the start.
            DeleteMessages(start);
            _deletedBelow = start;
        }
    }

    /// <inheritdoc />
    protected override bool HasUnfinishedWork => _journalReads > 0 || _readQueue.Count > 0;

    /// <inheritdoc />
    protected override void OnDrained()
    {
        // Parked long polls get what there is now rather than waiting out their time on a stopped entity.
        foreach (var waiter in _waiters.Values)
        {
            waiter.ReplyTo.Tell(State.ReadTail(waiter.Offset, waiter.Fetch));
        }

        _waiters.Clear();
    }

    /// <inheritdoc />
    protected override void HandleCommand(object message)
    {
        if (message is DeletePartition)
        {
            StartDeleting(Sender);
        }
        else
        {
            _mode(message);
        }
    }

    /// <inheritdoc />
    protected override void OnPurged()
    {
        Log.Info("Deleted {PersistenceId} (it ended at offset {EndOffset})", PersistenceId, State.NextOffset);
        foreach (var replyTo in _deletionReplyTo)
        {
            replyTo.Tell(new PartitionDeleted(_topic, _partition, State.NextOffset));
        }

        _deletionReplyTo.Clear();
        Context.Parent.Tell(new Passivate(StopEntity.Instance));
    }

    /// <inheritdoc />
    protected override void OnPurgeFailed(object failure)
    {
        // Answered as unavailable: the delete is retried (it is idempotent) by a new incarnation.
        foreach (var replyTo in _deletionReplyTo)
        {
            replyTo.Tell(new BrokerError(BrokerErrorCode.Unavailable, $"deleting partition {_partition} of '{_topic}' from the journal failed; retry"));
        }

        Context.Stop(Self);
    }

    /// <summary>
    /// The topic was deleted: refuse everything from now on; the base deletes the log and every snapshot once the write
    /// in flight (and a snapshot) landed.
    /// </summary>
    private void StartDeleting(IActorRef replyTo)
    {
        if (!IsPurging)
        {
            _mode = Deleting;
            Timers.Cancel("config");
            FailQueued(EntityFailure.NotServing, $"topic '{_topic}' is being deleted");
            var missing = Missing();
            foreach (var (id, waiter) in _waiters)
            {
                Timers.Cancel(("wait", id));
                waiter.ReplyTo.Tell(missing);
            }

            _waiters.Clear();
            while (_readQueue.TryDequeue(out var read))
            {
                read.ReplyTo.Tell(missing);
            }

            // What waited for the topic's configuration is refused now.
            Stash.UnstashAll();
        }

        _deletionReplyTo.Add(replyTo);
        PurgeAllData();
    }

    private void Deleting(object message)
    {
        switch (message)
        {
            case StopEntity:
                Context.Stop(Self);
                break;
            case JournalPageRead page:
                _journalReads--;
                page.Read.ReplyTo.Tell(Missing());
                break;
            case JournalPageFailed failed:
                _journalReads--;
                failed.ReplyTo.Tell(Missing());
                break;
            case AppendRecords or FetchRecords or GetPartitionInfo or FindOffsetByTime:
                Sender.Tell(Missing());
                break;
        }
    }

    private BrokerError Missing() => new(BrokerErrorCode.TopicNotFound, $"topic '{_topic}' does not exist");

    private void AwaitingConfig(object message)
    {
        switch (message)
        {
            case TopicInfoReply reply:
                Timers.Cancel("config");
                if (reply.Config is null || _partition >= reply.Config.Partitions)
                {
                    Context.Parent.Tell(new Passivate(StopEntity.Instance));
                    _mode = TopicMissing;
                }
                else
                {
                    _config = reply.Config;
                    // Retention, and snapshots held back by MinSnapshotInterval, also progress while no records arrive.
                    Timers.StartPeriodicTimer("maintenance", RetentionTick.Instance, _settings.RetentionCheckInterval);
                    _mode = Ready;
                }

                Stash.UnstashAll();
                break;
            case RequestConfig:
                _topics.Tell(new GetTopic(_topic));
                break;
            case StopEntity:
                // Nothing accepted yet: what waits in the stash times out at the edge and is retried at the new home.
                Context.Stop(Self);
                break;
            default:
                Stash.Stash();
                break;
        }
    }

    private void TopicMissing(object message)
    {
        if (message is StopEntity)
        {
            Context.Stop(Self);
        }
        else
        {
            Sender.Tell(Missing());
        }
    }

    private void Ready(object message)
    {
        switch (message)
        {
            case AppendRecords append:
                Submit(append, Sender);
                break;
            case FetchRecords fetch:
                Fetch(fetch, Sender);
                break;
            case StopEntity:
                StopWhenDrained();
                break;
            case GetPartitionInfo:
                EnforceRetention();
                Sender.Tell(new PartitionInfoReply(_topic, _partition, State.StartOffset, State.NextOffset));
                break;
            case FindOffsetByTime find:
                Sender.Tell(State.FindByTime(find.Timestamp));
                break;
            case JournalPageRead page:
                OnJournalPageRead(page);
                break;
            case JournalPageFailed failed:
                _journalReads--;
                Log.Warning(failed.Cause, "Catch-up read of {PersistenceId} failed", PersistenceId);
                failed.ReplyTo.Tell(new BrokerError(BrokerErrorCode.Unavailable, "reading the journal failed; retry"));
                StartQueuedReads();
                StopIfDrained();
                break;
            case WaitExpired expired:
                if (_waiters.Remove(expired.Id, out var waiter))
                {
                    waiter.ReplyTo.Tell(State.ReadTail(waiter.Offset, waiter.Fetch));
                }

                break;
            case RetentionTick:
                EnforceRetention();
                if (_retentionMovedSinceSnapshot || (_settings.SnapshotEvery > 0 && EventsSinceSnapshot >= _settings.SnapshotEvery))
                {
                    SaveSnapshotNow();
                }

                break;
            case TopicInfoReply or RequestConfig:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Fetch(FetchRecords fetch, IActorRef replyTo)
    {
        EnforceRetention();
        switch (State.DecideFetch(fetch))
        {
            case PartitionState.FetchDecision.FromTail tail:
                replyTo.Tell(tail.Result);
                break;
            case PartitionState.FetchDecision.Refused refused:
                replyTo.Tell(refused.Error);
                break;
            case PartitionState.FetchDecision.AtEnd end when fetch.WaitMs > 0 && _waiters.Count < _settings.MaxWaitingFetches:
                var id = ++_nextWaiterId;
                _waiters[id] = new Waiter(fetch, replyTo, end.Offset);
                Timers.StartSingleTimer(("wait", id), new WaitExpired(id), TimeSpan.FromMilliseconds(Math.Min(fetch.WaitMs, _settings.MaxWait.TotalMilliseconds)));
                break;
            case PartitionState.FetchDecision.AtEnd end:
                replyTo.Tell(State.ReadTail(end.Offset, fetch));
                break;
            case PartitionState.FetchDecision.FromJournal journal:
                _readQueue.Enqueue(new PendingRead(fetch, replyTo, journal.From, journal.ToExclusive));
                StartQueuedReads();
                break;
        }
    }

    private void StartQueuedReads()
    {
        var reader = PartitionJournalReader.For(Context.System);
        while (_journalReads < _settings.MaxConcurrentJournalReads && _readQueue.TryDequeue(out var read))
        {
            _journalReads++;
            var budget = State.Budget(read.Fetch);
            reader.ReadAsync(PersistenceId, read.From, read.ToExclusive, budget).PipeTo(
                Self,
                success: records => new JournalPageRead(read, records, budget),
                failure: cause => new JournalPageFailed(read.ReplyTo, cause));
        }
    }

    private void OnJournalPageRead(JournalPageRead page)
    {
        _journalReads--;
        // Retention may have moved while the page was read: never hand out records below the start.
        EnforceRetention();
        var records = page.Records.Where(r => r.Offset >= State.StartOffset).ToArray();
        if (records.Length == 0 && page.Read.From < State.StartOffset)
        {
            Fetch(page.Read.Fetch with { Offset = page.Read.From, WaitMs = 0 }, page.Read.ReplyTo);
        }
        else if (records.Length == 0 && page.Budget.Refusal is { } refusal)
        {
            page.Read.ReplyTo.Tell(refusal);
        }
        else if (records.Length == 0)
        {
            Log.Error("Offsets {From}..{To} of {PersistenceId} are missing from the journal", page.Read.From, page.Read.ToExclusive - 1, PersistenceId);
            page.Read.ReplyTo.Tell(new BrokerError(BrokerErrorCode.Unavailable, "the records at this offset could not be read from the journal; retry"));
        }
        else
        {
            // A journal page stops where the in-memory tail starts: fill the rest of the page (and budget) from the tail.
            var fetch = page.Read.Fetch;
            var next = records[^1].Offset + 1;
            if (records.Length < fetch.MaxRecords && next >= State.TailStart && next < State.NextOffset)
            {
                records = [.. records, .. State.ReadTail(next, fetch.MaxRecords - records.Length, page.Budget)];
            }

            page.Read.ReplyTo.Tell(State.Answer(page.Read.From, records, page.Budget));
        }

        StartQueuedReads();
        StopIfDrained();
    }

    private void WakeWaiters()
    {
        if (_waiters.Count == 0)
        {
            return;
        }

        foreach (var (id, waiter) in _waiters.Where(w => w.Value.Offset < State.NextOffset).ToList())
        {
            _waiters.Remove(id);
            Timers.Cancel(("wait", id));
            Fetch(waiter.Fetch with { Offset = waiter.Offset, WaitMs = 0 }, waiter.ReplyTo);
        }
    }

    private void EnforceRetention()
    {
        if (State.ApplyRetention(_config, NowUnixMs))
        {
            _retentionMovedSinceSnapshot = true;
        }
    }

    private sealed record Waiter(FetchRecords Fetch, IActorRef ReplyTo, long Offset);

    private sealed record PendingRead(FetchRecords Fetch, IActorRef ReplyTo, long From, long ToExclusive);

    private sealed record JournalPageRead(PendingRead Read, IReadOnlyList<StoredRecord> Records, FetchBudget Budget);

    private sealed record JournalPageFailed(IActorRef ReplyTo, Exception Cause);

    private sealed record WaitExpired(long Id);

    private sealed class RequestConfig
    {
        public static readonly RequestConfig Instance = new();
    }

    private sealed class RetentionTick
    {
        public static readonly RetentionTick Instance = new();
    }
}
