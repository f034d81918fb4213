#nullable enable
using ActorGrid.Serialization;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Partitions;

/// <summary>
/// The state of one topic partition and all its decision logic, free of actors: offsets, the in-memory tail,
/// idempotent-producer deduplication, retention and where a fetch is served from. Offset <c>n</c> is the record
/// written with journal sequence number <c>n + 1</c>.
/// </summary>
internal sealed class PartitionState
{
    private readonly Settings _settings;
    private readonly RecordTail _tail;
    private readonly ProducerTable _producers;
    private readonly TimeIndex _timeIndex;

    public PartitionState(Settings settings)
    {
        _settings = settings;
        _tail = new RecordTail(settings.TailMaxRecords, settings.TailMaxBytes);
        _producers = new ProducerTable(settings.ProducerWindowBatches, settings.MaxProducersPerPartition, (long)settings.ProducerExpiry.TotalMilliseconds);
        _timeIndex = new TimeIndex(settings.TimeIndexInterval, settings.MaxTimeIndexEntries);
    }

    /// <summary>The first offset that can be read (records below it were removed by retention).</summary>
    public long StartOffset { get; private set; }

    /// <summary>The offset the next record gets (the partition's end offset).</summary>
    public long NextOffset { get; private set; }

    /// <summary>Append time of the newest record (Unix ms).</summary>
    public long LastTimestamp { get; private set; }

    /// <summary>First offset held in memory (<see cref="NextOffset"/> when none).</summary>
    public long TailStart => _tail.Count == 0 ? NextOffset : _tail.FirstOffset;

    /// <summary>Records held in memory.</summary>
    public int TailCount => _tail.Count;

    /// <summary>Producers remembered for deduplication.</summary>
    public int ProducerCount => _producers.Count;

    /// <summary>The outcome of planning a group of appends: the events to write, and each command's reply.</summary>
    public sealed record AppendPlan(IReadOnlyList<RecordAppended> Events, IReadOnlyList<object> Replies);

    /// <summary>
    /// Decides a group of append commands (one journal write) without changing the state: which records are new
    /// (and their offsets), which are retries of records already appended, which are refused. Applying
    /// <see cref="AppendPlan.Events"/> in order yields exactly the offsets in the replies.
    /// </summary>
    public AppendPlan PlanAppends(IReadOnlyList<AppendRecords> commands, long nowMs)
    {
        var events = new List<RecordAppended>();
        var replies = new List<object>(commands.Count);
        var pending = new Dictionary<string, List<ProducerBatch>>(StringComparer.Ordinal);
        var timestamp = Math.Max(nowMs, LastTimestamp);
        var next = NextOffset;

        foreach (var command in commands)
        {
            var invalid = Validate(command);
            if (invalid is not null)
            {
                replies.Add(invalid);
                continue;
            }

            if (command.ProducerId is null)
            {
                replies.Add(new AppendResult([.. Enumerable.Range(0, command.Records.Length).Select(i => next + i)], 0));
                events.AddRange(command.Records.Select(r => new RecordAppended(timestamp, r.Key, r.Value, null, -1, -1)));
                next += command.Records.Length;
                continue;
            }

            var producerId = command.ProducerId;
            var sequences = command.Records.Select(r => r.Sequence).ToArray();
            pending.TryGetValue(producerId, out var planned);
            switch (_producers.Classify(producerId, sequences, planned, command.Contiguous))
            {
                case ProducerTable.Verdict.Duplicate duplicate:
                    replies.Add(new AppendResult(duplicate.Offsets, duplicate.Offsets.Length));
                    break;
                case ProducerTable.Verdict.Conflict conflict:
                    replies.Add(new BrokerError(BrokerErrorCode.SequenceConflict, conflict.Detail));
                    break;
                default:
                    var first = sequences[0];
                    (planned ??= pending[producerId] = []).Add(new ProducerBatch(first, sequences[^1], sequences.Length, next));
                    replies.Add(new AppendResult([.. Enumerable.Range(0, sequences.Length).Select(i => next + i)], 0));
                    events.AddRange(command.Records.Select(r => new RecordAppended(timestamp, r.Key, r.Value, producerId, r.Sequence, first)));
                    next += sequences.Length;
                    break;
            }
        }

        return new AppendPlan(events, replies);
    }

    /// <summary>
    /// Where the first record appended at or after <paramref name="timestamp"/> is: exact when the in-memory tail
    /// holds it (ScanFrom is the answer), otherwise the offset from which a reader scans, found in the time index.
    /// </summary>
    public OffsetByTimeHint FindByTime(long timestamp)
    {
        if (timestamp > LastTimestamp)
        {
            return new OffsetByTimeHint(NextOffset, NextOffset);
        }

        if (_tail.Count > 0 && (_tail.FirstOffsetAtOrAfter(timestamp) ?? NextOffset) is var inTail && inTail > _tail.FirstOffset)
        {
            // An older record precedes it in the tail: exact.
            return new OffsetByTimeHint(inTail, NextOffset);
        }

        return new OffsetByTimeHint(Math.Max(StartOffset, _timeIndex.ExpiredBefore(timestamp) ?? StartOffset), NextOffset);
    }

    /// <summary>Applies one appended record; it gets offset <see cref="NextOffset"/>.</summary>
    public void Apply(RecordAppended e)
    {
        var offset = NextOffset;
        _tail.Add(new StoredRecord(offset, e.Key, e.Value, e.Timestamp));
        if (e.ProducerId is not null)
        {
            _producers.Apply(e.ProducerId, e.Sequence, e.BatchFirstSequence, offset, e.Timestamp);
        }

        _timeIndex.OnAppend(offset, e.Timestamp);
        LastTimestamp = Math.Max(LastTimestamp, e.Timestamp);
        NextOffset = offset + 1;
    }

    /// <summary>
    /// Advances <see cref="StartOffset"/> past records that the topic's retention no longer keeps. Returns whether
    /// it moved.
    /// </summary>
    public bool ApplyRetention(TopicConfig? config, long nowMs)
    {
        if (config is null)
        {
            return false;
        }

        var start = StartOffset;
        if (config.RetentionMessages is { } keep)
        {
            start = Math.Max(start, NextOffset - keep);
        }

        if (config.RetentionSeconds is { } seconds)
        {
            var cutoff = nowMs - seconds * 1000;
            if (_timeIndex.ExpiredBefore(cutoff) is { } indexed)
            {
                start = Math.Max(start, indexed);
            }

            if (_tail.Count > 0)
            {
                // The tail is exact: if its oldest record expired, everything before the first live one did too.
                var firstLive = _tail.FirstOffsetAtOrAfter(cutoff) ?? NextOffset;
                if (firstLive > _tail.FirstOffset)
                {
                    start = Math.Max(start, firstLive);
                }
            }
            else if (LastTimestamp < cutoff && LastTimestamp > 0)
            {
                start = NextOffset;
            }
        }

        if (start <= StartOffset)
        {
            return false;
        }

        StartOffset = Math.Min(start, NextOffset);
        _tail.TrimBelow(StartOffset);
        _timeIndex.TrimBelow(StartOffset);
        return true;
    }

    /// <summary>Where a fetch is served from.</summary>
    public abstract record FetchDecision
    {
        /// <summary>Served from memory.</summary>
        public sealed record FromTail(FetchResult Result) : FetchDecision;

        /// <summary>Read offsets [From, ToExclusive) from the journal.</summary>
        public sealed record FromJournal(long From, long ToExclusive) : FetchDecision;

        /// <summary>Nothing at the offset yet: answer empty, or park the fetch until records arrive.</summary>
        public sealed record AtEnd(long Offset) : FetchDecision;

        /// <summary>Refused.</summary>
        public sealed record Refused(BrokerError Error) : FetchDecision;
    }

    /// <summary>Decides how to serve <paramref name="fetch"/>.</summary>
    public FetchDecision DecideFetch(FetchRecords fetch)
    {
        var offset = fetch.Offset ?? StartOffset;
        if (fetch.MaxRecords < 1 || fetch.MaxBytes < 1)
        {
            return new FetchDecision.Refused(new BrokerError(BrokerErrorCode.Invalid, "max must be at least 1"));
        }

        if (offset < StartOffset)
        {
            if (!fetch.ResetOutOfRange)
            {
                return new FetchDecision.Refused(new BrokerError(BrokerErrorCode.OffsetOutOfRange,
                    $"offset {offset} of {fetch.Topic}/{fetch.Partition} is below startOffset {StartOffset}: earlier records were removed by retention"));
            }

            offset = StartOffset;
        }

        if (offset > NextOffset && fetch.ResetOutOfRange)
        {
            offset = NextOffset;
        }

        if (offset > NextOffset)
        {
            return new FetchDecision.Refused(new BrokerError(BrokerErrorCode.OffsetOutOfRange,
                $"offset {offset} of {fetch.Topic}/{fetch.Partition} is beyond endOffset {NextOffset}"));
        }

        if (offset == NextOffset)
        {
            return new FetchDecision.AtEnd(offset);
        }

        if (offset >= TailStart)
        {
            var budget = Budget(fetch);
            var records = _tail.Read(offset, fetch.MaxRecords, budget);
            return records.Length > 0
                ? new FetchDecision.FromTail(new FetchResult(records, records[^1].Offset + 1, StartOffset, NextOffset))
                : new FetchDecision.Refused(budget.Refusal!);
        }

        return new FetchDecision.FromJournal(offset, Math.Min(offset + fetch.MaxRecords, TailStart));
    }

    /// <summary>
    /// What one reply to <paramref name="fetch"/> may carry: its <c>maxBytes</c> of values (at most
    /// <see cref="Settings.MaxMessageBytes"/>) and never more than <see cref="Settings.MaxRemoteMessageBytes"/> serialized.
    /// </summary>
    public FetchBudget Budget(FetchRecords fetch) => new(Math.Min(fetch.MaxBytes, _settings.MaxMessageBytes), _settings.MaxRemoteMessageBytes);

    /// <summary>The records held in memory from <paramref name="offset"/>: at most <paramref name="max"/> and what <paramref name="budget"/> admits.</summary>
    public StoredRecord[] ReadTail(long offset, int max, FetchBudget budget) => offset >= TailStart ? _tail.Read(offset, max, budget) : [];

    /// <summary>Answers a fetch at the end of the partition with what it holds now from <paramref name="offset"/>.</summary>
    public IActorGridMessage ReadTail(long offset, FetchRecords fetch)
    {
        var budget = Budget(fetch);
        return Answer(offset, ReadTail(offset, fetch.MaxRecords, budget), budget);
    }

    /// <summary>The reply of a fetch from <paramref name="offset"/> that read <paramref name="records"/>: them, or why the first record was refused.</summary>
    public IActorGridMessage Answer(long offset, StoredRecord[] records, FetchBudget budget) =>
        records.Length == 0 && budget.Refusal is { } refusal
            ? refusal
            : new FetchResult(records, records.Length > 0 ? records[^1].Offset + 1 : offset, StartOffset, NextOffset);

    /// <summary>The state as a snapshot (the records stay in the journal).</summary>
    public PartitionSnapshot ToSnapshot() =>
        new(StartOffset, NextOffset, LastTimestamp, _producers.ToSnapshot(), _timeIndex.Interval, _timeIndex.ToArray(), _producers.Forgotten());

    /// <summary>Restores the state from a snapshot; the in-memory tail starts empty.</summary>
    public void Restore(PartitionSnapshot snapshot)
    {
        StartOffset = snapshot.StartOffset;
        NextOffset = snapshot.NextOffset;
        LastTimestamp = snapshot.LastTimestamp;
        _producers.Restore(snapshot.Producers, snapshot.ForgottenProducers);
        _timeIndex.Restore(snapshot.TimeIndexInterval, snapshot.TimeIndex);
        _tail.Clear();
    }

    /// <summary>
    /// Aligns the end offset with the journal's highest sequence number after recovery. They differ when the
    /// journal's events were deleted without a snapshot to say so (a deleted topic: the journal keeps the highest
    /// sequence number of a deleted log): those offsets are gone, the partition starts empty at the journal's end.
    /// </summary>
    public void AlignWithJournal(long highestSequenceNr)
    {
        if (highestSequenceNr == NextOffset)
        {
            return;
        }

        StartOffset = highestSequenceNr > NextOffset ? highestSequenceNr : Math.Min(StartOffset, highestSequenceNr);
        NextOffset = highestSequenceNr;
        _tail.Clear();
    }

    private BrokerError? Validate(AppendRecords command)
    {
        if (command.Records.Length == 0)
        {
            return new BrokerError(BrokerErrorCode.Invalid, "no records to append");
        }

        if (command.ProducerId is null)
        {
            return null;
        }

        for (var i = 0; i < command.Records.Length; i++)
        {
            if (command.Records[i].Sequence < 0 || (i > 0 && command.Records[i].Sequence <= command.Records[i - 1].Sequence))
            {
                return new BrokerError(BrokerErrorCode.Invalid, "producer sequences must be non-negative and increasing");
            }
        }

        return null;
    }
}
