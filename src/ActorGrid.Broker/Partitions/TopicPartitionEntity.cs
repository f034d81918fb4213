#nullable enable
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using static ActorGrid.Broker.BrokerProtocol;
using Settings = ActorGrid.Broker.BrokerProtocol.Settings;

namespace ActorGrid.Broker.Partitions;

/// <summary>
/// One topic partition: a durable log with one event per record. Appends that arrive while a journal write is in
/// flight are buffered and written together as the next batch (group commit); every append is acknowledged only
/// after its write. Recent records are served from memory, older ones page from the journal; fetches at the end of
/// the log can wait for new records (long poll).
/// </summary>
internal sealed class TopicPartitionEntity : ReceivePersistentActor, IWithTimers
{
    private readonly string _topic;
    private readonly int _partition;
    private readonly Settings _settings;
    private readonly IActorRef _topics;
    private readonly PartitionState _state;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<(AppendRecords Command, IActorRef Sender)> _buffer = [];
    private readonly Dictionary<long, Waiter> _waiters = [];
    private readonly Queue<PendingRead> _readQueue = new();
    private readonly System.Diagnostics.Stopwatch _sinceSnapshot = System.Diagnostics.Stopwatch.StartNew();
    private TopicConfig? _config;
    private InFlightWrite? _inFlight;
    private long _nextWaiterId;
    private int _journalReads;
    private long _eventsSinceSnapshot;
    private long? _snapshotStartOffset;
    private long _deletedBelow;
    private bool _retentionMovedSinceSnapshot;
    private bool _flushScheduled;
    private bool _stopping;

    public TopicPartitionEntity(string topic, int partition, Settings settings)
    {
        _topic = topic;
        _partition = partition;
        _settings = settings;
        _topics = ActorRegistry.For(Context.System).Get<TopicRegion>();
        _state = new PartitionState(settings);
        PersistenceId = PersistenceIdFor(topic, partition);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PartitionSnapshot snapshot)
            {
                _state.Restore(snapshot);
                _deletedBelow = snapshot.StartOffset;
            }
        });
        Recover<RecordAppended>(_state.Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            _state.AlignWithJournal(LastSequenceNr);
            _topics.Tell(new GetTopic(_topic));
            Timers.StartPeriodicTimer("config", RequestConfig.Instance, TimeSpan.FromSeconds(1));
        });

        AwaitingConfig();
    }

    /// <inheritdoc />
    public override string PersistenceId { get; }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

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
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        FailPendingAppends($"the journal write failed ({cause.GetType().Name}); retry");
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <inheritdoc />
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // A rejected event would leave a hole in the offsets: restart from the journal instead of going on.
        FailPendingAppends($"the journal rejected a record ({cause.GetType().Name})");
        base.OnPersistRejected(cause, @event, sequenceNr);
        Context.Stop(Self);
    }

    private void AwaitingConfig()
    {
        Command<TopicInfoReply>(reply =>
        {
            Timers.Cancel("config");
            if (reply.Config is null)
            {
                Become(TopicMissing);
            }
            else
            {
                _config = reply.Config;
                // Retention, and snapshots held back by MinSnapshotInterval, also progress while no records arrive.
                Timers.StartPeriodicTimer("maintenance", RetentionTick.Instance, _settings.RetentionCheckInterval);

                Become(Ready);
            }

            Stash.UnstashAll();
        });
        Command<RequestConfig>(_ => _topics.Tell(new GetTopic(_topic)));
        // Nothing accepted yet: what waits in the stash times out at the edge and is retried at the new home.
        Command<StopEntity>(_ => Context.Stop(Self));
        CommandAny(_ => Stash.Stash());
    }

    private void TopicMissing()
    {
        Context.Parent.Tell(new Passivate(StopEntity.Instance));
        Command<StopEntity>(_ => Context.Stop(Self));
        CommandAny(_ => Sender.Tell(new BrokerError(BrokerErrorCode.TopicNotFound, $"topic '{_topic}' does not exist")));
    }

    private void Ready()
    {
        Command<AppendRecords>(append =>
        {
            _buffer.Add((append, Sender));
            if (_inFlight is null && !_flushScheduled)
            {
                // Flush after the appends already in the mailbox, so that they share this write.
                _flushScheduled = true;
                Self.Tell(FlushPending.Instance);
            }
        });
        Command<FlushPending>(_ =>
        {
            _flushScheduled = false;
            Flush();
            StopIfDrained();
        });
        Command<FetchRecords>(fetch => Fetch(fetch, Sender));
        Command<StopEntity>(_ =>
        {
            _stopping = true;
            StopIfDrained();
        });
        Command<GetPartitionInfo>(_ =>
        {
            EnforceRetention();
            Sender.Tell(new PartitionInfoReply(_topic, _partition, _state.StartOffset, _state.NextOffset));
        });
        Command<FindOffsetByTime>(find => Sender.Tell(_state.FindByTime(find.Timestamp)));
        Command<JournalPageRead>(OnJournalPageRead);
        Command<JournalPageFailed>(failed =>
        {
            _journalReads--;
            _log.Warning(failed.Cause, "Catch-up read of {0} failed", PersistenceId);
            failed.ReplyTo.Tell(new BrokerError(BrokerErrorCode.Unavailable, "reading the journal failed; retry"));
            StartQueuedReads();
            StopIfDrained();
        });
        Command<WaitExpired>(expired =>
        {
            if (_waiters.Remove(expired.Id, out var waiter))
            {
                waiter.ReplyTo.Tell(_state.ReadTail(waiter.Offset, waiter.Fetch.MaxRecords, waiter.Fetch.MaxBytes));
            }
        });
        Command<RetentionTick>(_ =>
        {
            EnforceRetention();
            if ((_retentionMovedSinceSnapshot || _eventsSinceSnapshot >= _settings.SnapshotEvery) && _inFlight is null)
            {
                TakeSnapshot();
            }
        });
        Command<TopicInfoReply>(_ => { });
        Command<RequestConfig>(_ => { });
        Command<SaveSnapshotSuccess>(success =>
        {
            var start = _snapshotStartOffset ?? 0;
            _snapshotStartOffset = null;
            if (start > _deletedBelow)
            {
                // Offsets below `start` are sequence numbers up to `start`; the snapshot now carries the start.
                DeleteMessages(start);
                _deletedBelow = start;
            }

            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(failure =>
        {
            _snapshotStartOffset = null;
            _log.Warning(failure.Cause, "Snapshot of {0} failed", PersistenceId);
        });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure => _log.Warning(failure.Cause, "Retention delete in {0} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failure => _log.Warning(failure.Cause, "Deleting old snapshots of {0} failed", PersistenceId));
    }

    private void Flush()
    {
        while (_buffer.Count > 0 && _inFlight is null)
        {
            var take = 0;
            var records = 0;
            while (take < _buffer.Count && (take == 0 || records + _buffer[take].Command.Records.Length <= _settings.MaxWriteBatchRecords))
            {
                records += _buffer[take].Command.Records.Length;
                take++;
            }

            var batch = _buffer.GetRange(0, take);
            _buffer.RemoveRange(0, take);
            var plan = _state.PlanAppends([.. batch.Select(b => b.Command)], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            if (plan.Events.Count == 0)
            {
                Reply(batch, plan.Replies);
                continue;
            }

            var write = new InFlightWrite(batch, plan.Replies, plan.Events.Count);
            _inFlight = write;
            PersistAllAsync(plan.Events, e =>
            {
                _state.Apply(e);
                if (--write.Remaining == 0)
                {
                    OnWritten(write);
                }
            });
        }
    }

    private void OnWritten(InFlightWrite write)
    {
        _inFlight = null;
        Reply(write.Batch, write.Replies);
        _eventsSinceSnapshot += write.Events;
        EnforceRetention();
        WakeWaiters();
        // At high rates a snapshot every SnapshotEvery records would be many writes a second competing with the
        // log itself; at most one per MinSnapshotInterval keeps recovery short (≤ one interval of records) all the same.
        if (_eventsSinceSnapshot >= _settings.SnapshotEvery && _sinceSnapshot.Elapsed >= _settings.MinSnapshotInterval)
        {
            TakeSnapshot();
        }

        Flush();
        StopIfDrained();
    }

    /// <summary>After a hand-off or passivation asked it to stop: stops once no accepted work is left.</summary>
    private void StopIfDrained()
    {
        if (!_stopping || _inFlight is not null || _buffer.Count > 0 || _journalReads > 0 || _readQueue.Count > 0)
        {
            return;
        }

        // Parked long polls get what there is now rather than waiting out their time on a stopped entity.
        foreach (var waiter in _waiters.Values)
        {
            waiter.ReplyTo.Tell(_state.ReadTail(waiter.Offset, waiter.Fetch.MaxRecords, waiter.Fetch.MaxBytes));
        }

        _waiters.Clear();
        Context.Stop(Self);
    }

    private static void Reply(List<(AppendRecords Command, IActorRef Sender)> batch, IReadOnlyList<object> replies)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Sender.Tell(replies[i]);
        }
    }

    private void FailPendingAppends(string detail)
    {
        var error = new BrokerError(BrokerErrorCode.Unavailable, detail);
        foreach (var (_, sender) in _inFlight?.Batch ?? [])
        {
            sender.Tell(error);
        }

        foreach (var (_, sender) in _buffer)
        {
            sender.Tell(error);
        }

        _inFlight = null;
        _buffer.Clear();
    }

    private void Fetch(FetchRecords fetch, IActorRef replyTo)
    {
        EnforceRetention();
        switch (_state.DecideFetch(fetch with { MaxBytes = Math.Min(fetch.MaxBytes, _settings.MaxMessageBytes) }))
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
                replyTo.Tell(_state.ReadTail(end.Offset, fetch.MaxRecords, fetch.MaxBytes));
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
            var maxBytes = Math.Min(read.Fetch.MaxBytes, _settings.MaxMessageBytes);
            reader.ReadAsync(PersistenceId, read.From, read.ToExclusive, maxBytes).PipeTo(
                Self,
                success: records => new JournalPageRead(read, records),
                failure: cause => new JournalPageFailed(read.ReplyTo, cause));
        }
    }

    private void OnJournalPageRead(JournalPageRead page)
    {
        _journalReads--;
        // Retention may have moved while the page was read: never hand out records below the start.
        EnforceRetention();
        var records = page.Records.Where(r => r.Offset >= _state.StartOffset).ToArray();
        if (records.Length == 0 && page.Read.From < _state.StartOffset)
        {
            Fetch(page.Read.Fetch with { Offset = page.Read.From, WaitMs = 0 }, page.Read.ReplyTo);
        }
        else if (records.Length == 0)
        {
            _log.Error("Offsets {0}..{1} of {2} are missing from the journal", page.Read.From, page.Read.ToExclusive - 1, PersistenceId);
            page.Read.ReplyTo.Tell(new BrokerError(BrokerErrorCode.Unavailable, "the records at this offset could not be read from the journal; retry"));
        }
        else
        {
            // A journal page stops where the in-memory tail starts: fill the rest of the page from the tail.
            var fetch = page.Read.Fetch;
            var room = Math.Min(fetch.MaxBytes, _settings.MaxMessageBytes) - records.Sum(r => (long)r.Value.Length);
            var next = records[^1].Offset + 1;
            if (records.Length < fetch.MaxRecords && room > 0 && next >= _state.TailStart && next < _state.NextOffset)
            {
                records = [.. records, .. _state.ReadTail(next, fetch.MaxRecords - records.Length, (int)room).Records];
            }

            page.Read.ReplyTo.Tell(new FetchResult(records, records[^1].Offset + 1, _state.StartOffset, _state.NextOffset));
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

        foreach (var (id, waiter) in _waiters.Where(w => w.Value.Offset < _state.NextOffset).ToList())
        {
            _waiters.Remove(id);
            Timers.Cancel(("wait", id));
            Fetch(waiter.Fetch with { Offset = waiter.Offset, WaitMs = 0 }, waiter.ReplyTo);
        }
    }

    private void EnforceRetention()
    {
        if (_state.ApplyRetention(_config, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()))
        {
            _retentionMovedSinceSnapshot = true;
        }
    }

    private void TakeSnapshot()
    {
        if (_snapshotStartOffset is not null)
        {
            return;
        }

        var snapshot = _state.ToSnapshot();
        _sinceSnapshot.Restart();
        _snapshotStartOffset = snapshot.StartOffset;
        _eventsSinceSnapshot = 0;
        _retentionMovedSinceSnapshot = false;
        SaveSnapshot(snapshot);
    }

    private sealed class InFlightWrite(List<(AppendRecords Command, IActorRef Sender)> batch, IReadOnlyList<object> replies, int events)
    {
        public List<(AppendRecords Command, IActorRef Sender)> Batch { get; } = batch;

        public IReadOnlyList<object> Replies { get; } = replies;

        public int Events { get; } = events;

        public int Remaining { get; set; } = events;
    }

    private sealed record Waiter(FetchRecords Fetch, IActorRef ReplyTo, long Offset);

    private sealed record PendingRead(FetchRecords Fetch, IActorRef ReplyTo, long From, long ToExclusive);

    private sealed record JournalPageRead(PendingRead Read, IReadOnlyList<StoredRecord> Records);

    private sealed record JournalPageFailed(IActorRef ReplyTo, Exception Cause);

    private sealed record WaitExpired(long Id);

    private sealed class RequestConfig
    {
        public static readonly RequestConfig Instance = new();
    }

    private sealed class FlushPending
    {
        public static readonly FlushPending Instance = new();
    }

    private sealed class RetentionTick
    {
        public static readonly RetentionTick Instance = new();
    }
}
