using ActorGrid.TestKit.Histories;

namespace ActorGrid.TestKit.Tests;

/// <summary>The checkers must catch what they exist to catch: each violation is fed in and must be reported.</summary>
public sealed class CheckerSpec
{
    private static Operation<KvCall, KvReply> Op(int process, KvCall call, KvReply? reply, long invoked, long completed, Outcome outcome = Outcome.Ok) =>
        new(process, call, reply, outcome, invoked, completed);

    private static KvCall Put(string value) => new(KvCallKind.Put, "k", value);

    private static readonly KvCall Get = new(KvCallKind.Get, "k");

    [Fact]
    public void A_sequential_history_is_linearizable()
    {
        var history = new[]
        {
            Op(1, Put("a"), KvReply.Written(1), 0, 10),
            Op(1, Get, KvReply.Read("a", 1), 20, 30),
            Op(2, new KvCall(KvCallKind.CompareAndSet, "k", "b", 1), KvReply.Written(2), 40, 50),
            Op(2, new KvCall(KvCallKind.CompareAndSet, "k", "c", 1), KvReply.Precondition, 60, 70),
            Op(1, new KvCall(KvCallKind.Delete, "k"), KvReply.Written(2), 80, 90),
            Op(1, Get, KvReply.Absent, 100, 110),
            Op(1, new KvCall(KvCallKind.Create, "k", "d"), KvReply.Written(3), 120, 130),
        };

        Assert.True(KvHistoryChecker.CheckLinearizable(history).IsValid);
    }

    [Fact]
    public void Concurrent_operations_may_take_effect_in_either_order()
    {
        var history = new[]
        {
            Op(1, Put("a"), KvReply.Written(2), 0, 100),
            Op(2, Put("b"), KvReply.Written(1), 10, 90),
            Op(3, Get, KvReply.Read("a", 2), 110, 120),
        };

        Assert.True(KvHistoryChecker.CheckLinearizable(history).IsValid);
    }

    [Fact]
    public void A_stale_read_after_an_acknowledged_write_is_reported()
    {
        var history = new[]
        {
            Op(1, Put("a"), KvReply.Written(1), 0, 10),
            Op(1, Put("b"), KvReply.Written(2), 20, 30),
            Op(2, Get, KvReply.Read("a", 1), 40, 50),
        };

        var result = KvHistoryChecker.CheckLinearizable(history);

        Assert.False(result.IsValid);
        Assert.Contains("key 'k'", result.Violations.Single());
        Assert.Throws<HistoryViolationException>(() => result.AssertValid());
    }

    [Fact]
    public void Two_cas_successes_from_the_same_version_are_reported()
    {
        var history = new[]
        {
            Op(1, Put("0"), KvReply.Written(1), 0, 10),
            Op(1, new KvCall(KvCallKind.CompareAndSet, "k", "1", 1), KvReply.Written(2), 20, 40),
            Op(2, new KvCall(KvCallKind.CompareAndSet, "k", "1", 1), KvReply.Written(2), 25, 45),
        };

        Assert.False(KvHistoryChecker.CheckLinearizable(history).IsValid);
    }

    [Fact]
    public void A_write_with_unknown_outcome_may_or_may_not_have_happened()
    {
        var seen = new[]
        {
            Op(1, Put("a"), KvReply.Written(1), 0, 10),
            Op(2, Put("b"), null, 20, 30, Outcome.Unknown),
            Op(1, Get, KvReply.Read("b", 2), 40, 50),
        };
        var notSeen = new[]
        {
            Op(1, Put("a"), KvReply.Written(1), 0, 10),
            Op(2, Put("b"), null, 20, 30, Outcome.Unknown),
            Op(1, Get, KvReply.Read("a", 1), 40, 50),
        };

        Assert.True(KvHistoryChecker.CheckLinearizable(seen).IsValid);
        Assert.True(KvHistoryChecker.CheckLinearizable(notSeen).IsValid);
    }

    [Fact]
    public void Reads_that_timed_out_do_not_multiply_the_search()
    {
        // What a paused owner leaves behind: many strong reads that never got an answer, each concurrent with every
        // later operation. Each one used to double the (state, linearized-set) pairs searched: 28 of them ran a
        // fault spec's checker out of memory (12 GB).
        static List<Operation<KvCall, KvReply>> History(string lastValue, long lastVersion)
        {
            var history = new List<Operation<KvCall, KvReply>>();
            for (var i = 0; i < 14; i++)
            {
                var at = i * 100L;
                history.Add(Op(1, Put("v" + i), KvReply.Written(i + 1), at, at + 10));
                history.Add(Op(2, Get, null, at + 12, at + 13, Outcome.Unknown));
                history.Add(Op(3, Get, null, at + 14, at + 15, Outcome.Unknown));
                history.Add(Op(1, Get, i == 13 ? KvReply.Read(lastValue, lastVersion) : KvReply.Read("v" + i, i + 1), at + 20, at + 30));
            }

            return history;
        }

        Assert.True(KvHistoryChecker.CheckLinearizable(History("v13", 14)).IsValid);
        Assert.False(KvHistoryChecker.CheckLinearizable(History("v12", 13)).IsValid);
    }

    [Fact]
    public void A_history_too_concurrent_to_search_fails_without_a_verdict()
    {
        // Twenty writes of unknown outcome, any subset in any order, before a read nothing explains.
        var history = Enumerable.Range(0, 20).Select(i => Op(2, Put("u" + i), null, i, i + 1, Outcome.Unknown))
            .Append(Op(1, Get, KvReply.Read("never written", 99), 1000, 1010)).ToList();

        var result = KvHistoryChecker.CheckLinearizable(history);

        Assert.False(result.IsValid);
        Assert.Contains("no verdict", result.Violations.Single());
    }

    [Fact]
    public void A_lost_acknowledged_write_is_reported()
    {
        var history = new[]
        {
            Op(1, Put("a"), KvReply.Written(1), 0, 10),
            Op(1, Put("b"), KvReply.Written(2), 20, 30),
        };

        var lost = KvHistoryChecker.CheckAcknowledgedWritesReadable(history, new Dictionary<string, KvReply> { ["k"] = KvReply.Read("a", 1) });
        var kept = KvHistoryChecker.CheckAcknowledgedWritesReadable(history, new Dictionary<string, KvReply> { ["k"] = KvReply.Read("b", 2) });

        Assert.Contains("lost acknowledged", lost.Violations.Single());
        Assert.True(kept.IsValid);
    }

    [Fact]
    public void A_write_that_timed_out_may_land_after_later_acknowledged_writes_but_nothing_else_may()
    {
        // "b" timed out at the client, the writer moved on and "c" was acknowledged as v2; "b" was applied later as v3.
        var history = new[]
        {
            Op(1, Put("a"), KvReply.Written(1), 0, 10),
            Op(1, Put("b"), null, 20, 30, Outcome.Unknown),
            Op(1, Put("c"), KvReply.Written(2), 40, 50),
        };

        var late = KvHistoryChecker.CheckAcknowledgedWritesReadable(history, new Dictionary<string, KvReply> { ["k"] = KvReply.Read("b", 3) });
        var twice = KvHistoryChecker.CheckAcknowledgedWritesReadable(history, new Dictionary<string, KvReply> { ["k"] = KvReply.Read("a", 3) });
        var invented = KvHistoryChecker.CheckAcknowledgedWritesReadable(history, new Dictionary<string, KvReply> { ["k"] = KvReply.Read("z", 3) });

        Assert.True(late.IsValid, string.Join("; ", late.Violations));
        Assert.Contains("applied twice", twice.Violations.Single());
        Assert.Contains("that no write produced", invented.Violations.Single());
    }

    [Fact]
    public void A_delete_is_the_last_write_only_when_it_came_after_the_last_put()
    {
        var putDeletePut = new[]
        {
            Op(1, Put("a"), KvReply.Written(1), 0, 10),
            Op(1, new KvCall(KvCallKind.Delete, "k"), KvReply.Written(1), 20, 30),
            Op(1, Put("b"), KvReply.Written(2), 40, 50),
        };
        var putDelete = putDeletePut[..2];

        Assert.True(KvHistoryChecker.CheckAcknowledgedWritesReadable(putDeletePut, new Dictionary<string, KvReply> { ["k"] = KvReply.Read("b", 2) }).IsValid);
        Assert.True(KvHistoryChecker.CheckAcknowledgedWritesReadable(putDelete, new Dictionary<string, KvReply> { ["k"] = KvReply.Absent }).IsValid);
        Assert.False(KvHistoryChecker.CheckAcknowledgedWritesReadable(putDelete, new Dictionary<string, KvReply> { ["k"] = KvReply.Read("a", 1) }).IsValid);
    }

    [Fact]
    public void Broker_checker_finds_a_record_acknowledged_without_an_offset_by_its_value()
    {
        var acknowledged = new[] { new ProducedRecord("t", 0, 0, "p-0"), new ProducedRecord("t", 0, -1001, "p-1") };

        Assert.True(BrokerHistoryChecker.Check(acknowledged, [new("t", 0, 0, "p-0"), new("t", 0, 1, "p-1")]).IsValid);
        Assert.Contains(BrokerHistoryChecker.Check(acknowledged, [new("t", 0, 0, "p-0")]).Violations,
            v => v.StartsWith("lost: 'p-1' acknowledged without an offset", StringComparison.Ordinal));
    }

    [Fact]
    public void Broker_checker_reports_a_lost_a_duplicated_and_a_reordered_record()
    {
        var acknowledged = new[]
        {
            new ProducedRecord("t", 0, 0, "p-0", "p", 0),
            new ProducedRecord("t", 0, 1, "p-1", "p", 1),
            new ProducedRecord("t", 0, 2, "p-2", "p", 2),
            new ProducedRecord("t", 0, 3, "p-3", "p", 3),
        };
        var consumed = new[]
        {
            new ConsumedRecord("t", 0, 0, "p-0"),
            new ConsumedRecord("t", 0, 1, "p-2"), // p-2 moved before p-1: reordered, and p-1/p-2 are not where acknowledged
            new ConsumedRecord("t", 0, 2, "p-1"),
            new ConsumedRecord("t", 0, 3, "p-0"), // duplicate of p-0; p-3 is lost
        };

        var result = BrokerHistoryChecker.Check(acknowledged, consumed);

        Assert.Contains(result.Violations, v => v.StartsWith("lost: 'p-3'", StringComparison.Ordinal));
        Assert.Contains(result.Violations, v => v.StartsWith("duplicated: 'p-0'", StringComparison.Ordinal));
        Assert.Contains(result.Violations, v => v.StartsWith("reordered: producer p", StringComparison.Ordinal));
    }

    [Fact]
    public void Broker_checker_accepts_a_complete_ordered_log_and_reports_gaps()
    {
        var acknowledged = new[] { new ProducedRecord("t", 0, 0, "a", "p", 0), new ProducedRecord("t", 0, 1, "b", "p", 1) };
        var complete = new[] { new ConsumedRecord("t", 0, 0, "a"), new ConsumedRecord("t", 0, 1, "b") };
        var gap = new[] { new ConsumedRecord("t", 0, 0, "a"), new ConsumedRecord("t", 0, 1, "b"), new ConsumedRecord("t", 0, 3, "x") };

        Assert.True(BrokerHistoryChecker.Check(acknowledged, complete).IsValid);
        Assert.Contains(BrokerHistoryChecker.Check(acknowledged, gap).Violations, v => v.StartsWith("gap:", StringComparison.Ordinal));
    }

    [Fact]
    public void Result_checker_reports_missing_different_and_unexpected_keys()
    {
        var expected = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" };
        var actual = new Dictionary<string, string> { ["a"] = "1", ["b"] = "5", ["d"] = "4" };

        var result = ResultChecker.Compare(expected, actual);

        Assert.Equal(3, result.Violations.Count);
        Assert.True(ResultChecker.Compare(expected, expected).IsValid);
    }

    [Fact]
    public async Task History_records_exceptions_as_unknown_outcomes()
    {
        var history = new History<KvCall, KvReply>();

        await history.RecordAsync(1, Put("a"), () => Task.FromResult<(KvReply?, Outcome)>((KvReply.Written(1), Outcome.Ok)));
        await history.RecordAsync(2, Put("b"), () => throw new HttpRequestException("connection reset"));

        Assert.Equal([Outcome.Ok, Outcome.Unknown], history.Operations.Select(o => o.Outcome));
        Assert.All(history.Operations, o => Assert.True(o.Completed >= o.Invoked));
    }
}
