using System.Text;
using System.Text.Json;
using ActorGrid.Serialization;
using ActorGrid.Broker.Partitions;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Tests;

public sealed class PartitionStateSpec
{
    private const long T0 = 1_700_000_000_000;
    private static readonly Settings Defaults = new();

    [Fact]
    public void Offsets_are_dense_from_zero_in_command_order()
    {
        var state = new PartitionState(Defaults);

        var offsets = Append(state, T0, Plain("a", "b"), Plain("c"));
        Assert.Equal([[0, 1], [2]], offsets);
        Assert.Equal(3, state.NextOffset);

        Assert.Equal([[3]], Append(state, T0, Plain("d")));
        Assert.Equal(0, state.StartOffset);
    }

    [Fact]
    public void Append_times_never_go_backwards()
    {
        var state = new PartitionState(Defaults);
        Append(state, T0 + 500, Plain("a"));
        var plan = state.PlanAppends([Plain("b")], T0);

        Assert.Equal(T0 + 500, Assert.Single(plan.Events).Timestamp);
    }

    [Fact]
    public void A_retried_producer_batch_returns_the_original_offsets_and_appends_nothing()
    {
        var state = new PartitionState(Defaults);
        Append(state, T0, Plain("x"));
        var first = Append(state, T0, Produced("p", 0, "a", "b", "c"));

        var retry = state.PlanAppends([Produced("p", 0, "a", "b", "c")], T0);

        Assert.Empty(retry.Events);
        var result = Assert.IsType<AppendResult>(Assert.Single(retry.Replies));
        Assert.Equal(first[0], result.Offsets);
        Assert.Equal(3, result.Duplicates);
        Assert.Equal(4, state.NextOffset);
    }

    [Fact]
    public void The_same_batch_twice_in_one_write_is_appended_once()
    {
        var state = new PartitionState(Defaults);

        var plan = state.PlanAppends([Produced("p", 5, "a", "b"), Produced("p", 5, "a", "b")], T0);

        Assert.Equal(2, plan.Events.Count);
        Assert.Equal([0L, 1L], ((AppendResult)plan.Replies[0]).Offsets);
        Assert.Equal([0L, 1L], ((AppendResult)plan.Replies[1]).Offsets);
    }

    [Fact]
    public void A_sparse_batch_is_recognised_exactly_and_a_part_of_a_dense_batch_maps_one_to_one()
    {
        var state = new PartitionState(Defaults);
        // Sequences 0, 3, 7 of one request landed here (the others went to other partitions).
        var sparse = Append(state, T0, ProducedSequences("p", [0, 3, 7]))[0];
        var dense = Append(state, T0, ProducedSequences("p", [10, 11, 12, 13]))[0];

        Assert.Equal(sparse, Duplicate(state, ProducedSequences("p", [0, 3, 7])));
        Assert.Equal([dense[1], dense[2]], Duplicate(state, ProducedSequences("p", [11, 12])));
    }

    [Fact]
    public void A_batch_that_overlaps_earlier_ones_differently_is_refused()
    {
        var state = new PartitionState(Defaults);
        Append(state, T0, ProducedSequences("p", [0, 3, 7]));

        var error = Refused(state, ProducedSequences("p", [3, 4]));

        Assert.Equal(BrokerErrorCode.SequenceConflict, error.Code);
        Assert.Equal(3, state.NextOffset);
    }

    [Fact]
    public void Sequences_older_than_the_window_are_refused_and_newer_out_of_order_ones_accepted()
    {
        var state = new PartitionState(Defaults with { ProducerWindowBatches = 2 });
        Append(state, T0, ProducedSequences("p", [0]));
        Append(state, T0, ProducedSequences("p", [10]));
        Append(state, T0, ProducedSequences("p", [20]));

        // Batch [0] was forgotten: a retry of it cannot be told from a new record, so it is refused.
        Assert.Equal(BrokerErrorCode.SequenceConflict, Refused(state, ProducedSequences("p", [0])).Code);
        // A concurrent request that arrives late (15 after 20) is new and still inside the window.
        Assert.Equal([[3]], Append(state, T0, ProducedSequences("p", [15])));
        // Producers are independent.
        Assert.Equal([[4]], Append(state, T0, ProducedSequences("q", [0])));
    }

    [Fact]
    public void The_least_recently_active_producer_is_forgotten_beyond_the_bound()
    {
        var state = new PartitionState(Defaults with { MaxProducersPerPartition = 2 });
        Append(state, T0, ProducedSequences("p1", [0]));
        Append(state, T0, ProducedSequences("p2", [0]));
        Append(state, T0, ProducedSequences("p1", [1]));
        Append(state, T0, ProducedSequences("p3", [0]));

        Assert.Equal(2, state.ProducerCount);
        Assert.Equal([2L], Duplicate(state, ProducedSequences("p1", [1])));
        // p2 was forgotten down to its last sequence: its retry is refused, never appended a second time (issue 14)…
        var refused = Refused(state, ProducedSequences("p2", [0]));
        Assert.Equal(BrokerErrorCode.SequenceConflict, refused.Code);
        Assert.Contains("forgotten", refused.Detail);
        // …while its next records are appended, and deduplicated again from then on.
        Assert.Equal([[4]], Append(state, T0, ProducedSequences("p2", [1])));
        Assert.Equal([4L], Duplicate(state, ProducedSequences("p2", [1])));
    }

    [Fact]
    public void A_producer_idle_past_the_expiry_is_forgotten_and_its_retry_refused_even_after_a_snapshot()
    {
        var settings = Defaults with { ProducerExpiry = TimeSpan.FromMinutes(1) };
        var state = new PartitionState(settings);
        Append(state, T0, ProducedSequences("idle", [0, 1]));
        Append(state, T0 + 61_000, ProducedSequences("busy", [0]));

        Assert.Equal(1, state.ProducerCount);
        var restored = new PartitionState(settings);
        restored.Restore(state.ToSnapshot());
        foreach (var s in new[] { state, restored })
        {
            Assert.Equal(BrokerErrorCode.SequenceConflict, Refused(s, ProducedSequences("idle", [1])).Code);
            Assert.Equal(3, s.NextOffset);
        }
    }

    [Fact]
    public void Deduplication_survives_a_snapshot_and_a_replay_of_the_journal()
    {
        var state = new PartitionState(Defaults);
        var events = new List<RecordAppended>();
        // Two requests of one producer written in the same batch keep their own boundaries.
        var plan = state.PlanAppends([ProducedSequences("p", [0, 2]), ProducedSequences("p", [5, 7])], T0);
        foreach (var e in plan.Events)
        {
            state.Apply(e);
            events.Add(e);
        }

        var restored = new PartitionState(Defaults);
        restored.Restore(state.ToSnapshot());
        var replayed = new PartitionState(Defaults);
        events.ForEach(replayed.Apply);

        foreach (var recovered in new[] { restored, replayed })
        {
            Assert.Equal([0L, 1L], Duplicate(recovered, ProducedSequences("p", [0, 2])));
            Assert.Equal([2L, 3L], Duplicate(recovered, ProducedSequences("p", [5, 7])));
            Assert.Equal(4, recovered.NextOffset);
        }
    }

    [Fact]
    public void Invalid_appends_are_refused_without_changing_anything()
    {
        var state = new PartitionState(Defaults);

        var plan = state.PlanAppends([ProducedSequences("p", [3, 2]), new AppendRecords("t", 0, null, [])], T0);

        Assert.Empty(plan.Events);
        Assert.All(plan.Replies, r => Assert.Equal(BrokerErrorCode.Invalid, Assert.IsType<BrokerError>(r).Code));
    }

    [Fact]
    public void Count_retention_keeps_the_newest_records_and_reading_below_the_start_is_refused()
    {
        var state = new PartitionState(Defaults);
        for (var i = 0; i < 10; i++)
        {
            Append(state, T0, Plain($"r{i}"));
        }

        Assert.True(state.ApplyRetention(new TopicConfig("t", 1, 3, null), T0));

        Assert.Equal(7, state.StartOffset);
        var refused = Assert.IsType<PartitionState.FetchDecision.Refused>(state.DecideFetch(Fetch(5)));
        Assert.Equal(BrokerErrorCode.OffsetOutOfRange, refused.Error.Code);
        Assert.Contains("below startOffset 7", refused.Error.Detail);
        var fromStart = Assert.IsType<PartitionState.FetchDecision.FromTail>(state.DecideFetch(Fetch(null)));
        Assert.Equal([7L, 8L, 9L], fromStart.Result.Records.Select(r => r.Offset));
        var reset = Assert.IsType<PartitionState.FetchDecision.FromTail>(state.DecideFetch(Fetch(2) with { ResetOutOfRange = true }));
        Assert.Equal(7, reset.Result.Records[0].Offset);
    }

    [Fact]
    public void Age_retention_is_exact_within_the_in_memory_tail()
    {
        var state = new PartitionState(Defaults);
        Append(state, T0, Plain("old1", "old2"));
        Append(state, T0 + 10_000, Plain("new1"));
        Append(state, T0 + 20_000, Plain("new2"));

        // At T0 + 15 s with 10 s retention, the cutoff is T0 + 5 s: the two records of T0 expired.
        Assert.True(state.ApplyRetention(new TopicConfig("t", 1, null, 10), T0 + 15_000));
        Assert.Equal(2, state.StartOffset);

        // When everything is older than the retention, the partition is empty: start = end.
        state.ApplyRetention(new TopicConfig("t", 1, null, 10), T0 + 60_000);
        Assert.Equal(state.NextOffset, state.StartOffset);
    }

    [Fact]
    public void Age_retention_below_the_tail_uses_the_time_index()
    {
        var state = new PartitionState(Defaults with { TailMaxRecords = 5, TimeIndexInterval = 4 });
        for (var i = 0; i < 20; i++)
        {
            Append(state, T0, Plain($"old{i}"));
        }

        for (var i = 0; i < 20; i++)
        {
            Append(state, T0 + 100_000, Plain($"new{i}"));
        }

        Assert.Equal(35, state.TailStart);
        Assert.True(state.ApplyRetention(new TopicConfig("t", 1, null, 50), T0 + 100_000));

        // Records are indexed every 4 offsets: offset 16 is the last indexed expired one, so everything before it goes.
        Assert.Equal(16, state.StartOffset);
    }

    [Fact]
    public void Recent_offsets_are_served_from_memory_and_older_ones_from_the_journal()
    {
        var state = new PartitionState(Defaults with { TailMaxRecords = 5 });
        for (var i = 0; i < 20; i++)
        {
            Append(state, T0, Plain($"r{i}"));
        }

        Assert.Equal(5, state.TailCount);
        var journal = Assert.IsType<PartitionState.FetchDecision.FromJournal>(state.DecideFetch(Fetch(2, max: 100)));
        Assert.Equal((2L, 15L), (journal.From, journal.ToExclusive));
        var tail = Assert.IsType<PartitionState.FetchDecision.FromTail>(state.DecideFetch(Fetch(16, max: 2)));
        Assert.Equal([16L, 17L], tail.Result.Records.Select(r => r.Offset));
        Assert.Equal(18, tail.Result.NextOffset);
        Assert.IsType<PartitionState.FetchDecision.AtEnd>(state.DecideFetch(Fetch(20)));
        var beyond = Assert.IsType<PartitionState.FetchDecision.Refused>(state.DecideFetch(Fetch(21)));
        Assert.Equal(BrokerErrorCode.OffsetOutOfRange, beyond.Error.Code);
    }

    [Fact]
    public void The_tail_is_bounded_by_bytes_and_a_page_by_its_byte_budget()
    {
        var state = new PartitionState(Defaults with { TailMaxBytes = 10 * (1000 + 64) });
        for (var i = 0; i < 30; i++)
        {
            Append(state, T0, new AppendRecords("t", 0, null, [new NewRecord(null, new byte[1000], -1)]));
        }

        Assert.Equal(10, state.TailCount);
        var page = Assert.IsType<PartitionState.FetchDecision.FromTail>(state.DecideFetch(Fetch(25, max: 100, maxBytes: 2500)));
        Assert.Equal(2, page.Result.Records.Length);
    }

    [Fact]
    public void A_fetch_page_is_cut_by_its_serialized_size_so_it_always_fits_one_message_between_nodes()
    {
        // Many small values under long keys of characters JSON escapes (6 bytes each): value bytes alone would let
        // 1000 of them (6 MB serialized) into one page.
        var settings = Defaults with { MaxRemoteMessageBytes = 200_000 };
        var state = new PartitionState(settings);
        var key = new string('<', 1000);
        for (var i = 0; i < 10; i++)
        {
            Append(state, T0, new AppendRecords("t", 0, null, [.. Enumerable.Range(0, 100).Select(_ => new NewRecord(key, [1], -1))]));
        }

        var read = new List<StoredRecord>();
        var pages = 0;
        for (long offset = 0; offset < 1000; pages++)
        {
            var page = Assert.IsType<PartitionState.FetchDecision.FromTail>(state.DecideFetch(Fetch(offset, max: 1000))).Result;
            var serialized = JsonSerializer.SerializeToUtf8Bytes(page, ActorGridSerializer.JsonOptions).Length;
            Assert.True(serialized <= settings.MaxRemoteMessageBytes, $"a page of {page.Records.Length} records is {serialized} bytes serialized");
            read.AddRange(page.Records);
            offset = page.NextOffset;
        }

        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), read.Select(r => r.Offset));
        Assert.InRange(pages, 30, 35);
    }

    [Fact]
    public void A_record_larger_than_maxBytes_comes_back_alone_and_one_larger_than_a_message_is_refused_clearly()
    {
        var state = new PartitionState(Defaults);
        Append(state, T0, new AppendRecords("t", 0, null, [new NewRecord(null, new byte[100_000], -1), new NewRecord(null, [1], -1)]));

        // Kafka's rule: at least one record, whatever maxBytes says, so a consumer always moves on.
        var alone = Assert.IsType<PartitionState.FetchDecision.FromTail>(state.DecideFetch(Fetch(0, maxBytes: 10))).Result;
        Assert.Equal([0L], alone.Records.Select(r => r.Offset));

        // A record stored under a larger limit than a message between nodes now carries: a clear refusal, not a drop.
        var smaller = new PartitionState(Defaults with { MaxRemoteMessageBytes = 50_000 });
        Append(smaller, T0, new AppendRecords("t", 0, null, [new NewRecord(null, new byte[100_000], -1)]));
        var refused = Assert.IsType<PartitionState.FetchDecision.Refused>(smaller.DecideFetch(Fetch(0)));
        Assert.Equal(BrokerErrorCode.TooLarge, refused.Error.Code);
        Assert.Contains("offset 0 is 133432 bytes serialized", refused.Error.Detail);
        Assert.Equal(refused.Error, smaller.ReadTail(0, Fetch(0)));
    }

    private static long[][] Append(PartitionState state, long now, params AppendRecords[] commands)
    {
        var plan = state.PlanAppends(commands, now);
        foreach (var e in plan.Events)
        {
            state.Apply(e);
        }

        return [.. plan.Replies.Select(r => Assert.IsType<AppendResult>(r).Offsets)];
    }

    private static long[] Duplicate(PartitionState state, AppendRecords command)
    {
        var plan = state.PlanAppends([command], T0);
        Assert.Empty(plan.Events);
        return Assert.IsType<AppendResult>(Assert.Single(plan.Replies)).Offsets;
    }

    private static BrokerError Refused(PartitionState state, AppendRecords command)
    {
        var plan = state.PlanAppends([command], T0);
        Assert.Empty(plan.Events);
        return Assert.IsType<BrokerError>(Assert.Single(plan.Replies));
    }

    private static AppendRecords Plain(params string[] values) =>
        new("t", 0, null, [.. values.Select(v => new NewRecord(null, Encoding.UTF8.GetBytes(v), -1))]);

    private static AppendRecords Produced(string producer, long sequence, params string[] values) =>
        new("t", 0, producer, [.. values.Select((v, i) => new NewRecord(null, Encoding.UTF8.GetBytes(v), sequence + i))]);

    private static AppendRecords ProducedSequences(string producer, long[] sequences) =>
        new("t", 0, producer, [.. sequences.Select(s => new NewRecord(null, Encoding.UTF8.GetBytes($"{producer}-{s}"), s))]);

    private static FetchRecords Fetch(long? offset, int max = 100, int maxBytes = 1 << 20) => new("t", 0, offset, max, maxBytes, 0);
}
