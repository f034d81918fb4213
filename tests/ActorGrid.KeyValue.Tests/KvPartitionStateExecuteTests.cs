using System.Text;
using ActorGrid.Configuration;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue.Tests;

/// <summary>The Redis-style ops of <see cref="Execute"/>, decided by the pure partition state.</summary>
public sealed class KvPartitionStateExecuteTests
{
    private const long T0 = 1_700_000_000_000;
    private static readonly Settings Settings = KvProtocol.Settings.Create(new ActorGridOptions()) with { MaxValueBytes = 16 };

    private static byte[] V(string s) => Encoding.UTF8.GetBytes(s);

    private static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);

    private static (KvPartitionState State, ExecuteResult Reply, int Events) Run(KvPartitionState state, long now, params KvOp[] ops) =>
        Run(state, now, null, ops);

    private static (KvPartitionState State, ExecuteResult Reply, int Events) Run(KvPartitionState state, long now, WatchedKey[]? watches, params KvOp[] ops)
    {
        var decision = state.Decide(new Execute("kv-0", ops, watches), now, Settings);
        foreach (var e in decision.Events)
        {
            state = state.Apply(e);
        }

        return (state, decision.Reply, decision.Events.Count);
    }

    [Fact]
    public void Incr_counts_from_absent_keeps_the_ttl_and_refuses_non_integers_and_overflow()
    {
        var (s, r, _) = Run(KvPartitionState.Empty, T0,
            new KvOp(KvOpCode.IncrBy, "n", Amount: 1),
            new KvOp(KvOpCode.IncrBy, "n", Amount: 41),
            new KvOp(KvOpCode.Set, "t", V("5"), ExpiryMode: ExpiryMode.AfterMs, Expiry: 10_000),
            new KvOp(KvOpCode.IncrBy, "t", Amount: -7),
            new KvOp(KvOpCode.Set, "x", V("12a"), ExpiryMode: ExpiryMode.Clear),
            new KvOp(KvOpCode.IncrBy, "x", Amount: 1),
            new KvOp(KvOpCode.IncrBy, "big", Amount: long.MaxValue),
            new KvOp(KvOpCode.IncrBy, "big", Amount: 1));

        Assert.Equal([1L, 42L], new[] { r.Results[0].Integer, r.Results[1].Integer });
        Assert.Equal((-2L, T0 + 10_000), (r.Results[3].Integer, r.Results[3].ExpiresAtUnixMs!.Value));
        Assert.Equal("value is not an integer or out of range", r.Results[5].Error);
        Assert.Equal("increment or decrement would overflow", r.Results[7].Error);
        Assert.Equal(("42", 2L), (S(s.Read("n", T0).Value), s.Read("n", T0).Version));
        Assert.Equal("12a", S(s.Read("x", T0).Value)); // a failed op changes nothing, the others still ran
    }

    [Theory]
    [InlineData("007")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("-0")]
    [InlineData("")]
    [InlineData("99999999999999999999")]
    public void Integers_are_written_the_way_redis_writes_them(string text) =>
        Assert.False(KvPartitionState.TryParseInteger(V(text), out _));

    [Fact]
    public void IncrByFloat_and_append_write_new_values()
    {
        var (s, r, _) = Run(KvPartitionState.Empty, T0,
            new KvOp(KvOpCode.IncrByFloat, "f", Increment: 10.5),
            new KvOp(KvOpCode.IncrByFloat, "f", Increment: 0.1),
            new KvOp(KvOpCode.IncrByFloat, "f", Increment: -0.6),
            new KvOp(KvOpCode.Append, "a", V("hello ")),
            new KvOp(KvOpCode.Append, "a", V("world")),
            new KvOp(KvOpCode.Append, "a", V("!!!!!!")));

        Assert.Equal(["10.5", "10.6", "10"], r.Results[..3].Select(x => S(x.Value)));
        Assert.Equal([6L, 11L], r.Results[3..5].Select(x => x.Integer));
        Assert.StartsWith("string exceeds maximum allowed size", r.Results[5].Error, StringComparison.Ordinal);
        Assert.Equal("hello world", S(s.Read("a", T0).Value));
    }

    [Fact]
    public void Set_honours_nx_xx_get_and_expiry_options()
    {
        var (s, r, events) = Run(KvPartitionState.Empty, T0,
            new KvOp(KvOpCode.Set, "k", V("1"), Condition: SetCondition.Exists, ExpiryMode: ExpiryMode.Clear),
            new KvOp(KvOpCode.Set, "k", V("1"), Condition: SetCondition.NotExists, ExpiryMode: ExpiryMode.AfterMs, Expiry: 5_000),
            new KvOp(KvOpCode.Set, "k", V("2"), Condition: SetCondition.NotExists, ExpiryMode: ExpiryMode.Clear, ReturnOld: true),
            new KvOp(KvOpCode.Set, "k", V("3"), ExpiryMode: ExpiryMode.Keep, ReturnOld: true),
            new KvOp(KvOpCode.Set, "k", V("4"), ExpiryMode: ExpiryMode.AfterMs, Expiry: 0));

        Assert.Equal(KvOpOutcome.Skipped, r.Results[0].Outcome);
        Assert.Equal((KvOpOutcome.Done, 1L), (r.Results[1].Outcome, r.Results[1].Version));
        Assert.Equal((KvOpOutcome.Skipped, "1"), (r.Results[2].Outcome, S(r.Results[2].Value)));
        Assert.Equal(("1", T0 + 5_000), (S(r.Results[3].Value), r.Results[3].ExpiresAtUnixMs!.Value)); // KEEPTTL
        Assert.Equal("invalid expire time in 'set' command", r.Results[4].Error);
        Assert.Equal(2, events);
        Assert.False(s.Read("k", T0 + 5_000).Found);
    }

    [Fact]
    public void Expire_persist_and_getdel_change_the_key_and_its_version()
    {
        var (s, _, _) = Run(KvPartitionState.Empty, T0, new KvOp(KvOpCode.Set, "k", V("v"), ExpiryMode: ExpiryMode.Clear));
        (s, var r, _) = Run(s, T0,
            new KvOp(KvOpCode.Expire, "missing", ExpiryMode: ExpiryMode.AfterMs, Expiry: 1000),
            new KvOp(KvOpCode.Expire, "k", ExpiryMode: ExpiryMode.Clear),
            new KvOp(KvOpCode.Expire, "k", ExpiryMode: ExpiryMode.AtUnixMs, Expiry: T0 + 60_000),
            new KvOp(KvOpCode.Inspect, "k"),
            new KvOp(KvOpCode.Expire, "k", ExpiryMode: ExpiryMode.Clear));
        Assert.Equal([KvOpOutcome.Skipped, KvOpOutcome.Skipped, KvOpOutcome.Done, KvOpOutcome.Done, KvOpOutcome.Done], r.Results.Select(x => x.Outcome));
        Assert.Equal((2L, T0 + 60_000), (r.Results[3].Version, r.Results[3].ExpiresAtUnixMs!.Value));
        Assert.Equal((3L, (long?)null), (s.Read("k", T0).Version, s.Read("k", T0).ExpiresAtUnixMs));

        (s, r, _) = Run(s, T0, new KvOp(KvOpCode.Delete, "k", ReturnOld: true), new KvOp(KvOpCode.Delete, "k"));
        Assert.Equal(("v", KvOpOutcome.Skipped), (S(r.Results[0].Value), r.Results[1].Outcome));
        (s, r, _) = Run(s, T0, new KvOp(KvOpCode.Set, "k", V("again"), ExpiryMode: ExpiryMode.Clear));
        Assert.Equal(4, r.Results[0].Version); // a delete and re-create continues the count

        // An expiry in the past deletes.
        (s, _, _) = Run(s, T0, new KvOp(KvOpCode.Expire, "k", ExpiryMode: ExpiryMode.AfterMs, Expiry: -1));
        Assert.False(s.Read("k", T0).Found);
    }

    [Fact]
    public void Watched_versions_gate_the_whole_command()
    {
        var (s, _, _) = Run(KvPartitionState.Empty, T0, new KvOp(KvOpCode.Set, "w", V("1"), ExpiryMode: ExpiryMode.Clear));

        var (unchanged, ok, events) = Run(s, T0, [new WatchedKey("w", 1), new WatchedKey("absent", 0)], new KvOp(KvOpCode.IncrBy, "w", Amount: 1), new KvOp(KvOpCode.Get, "w"));
        Assert.Equal((ExecuteStatus.Done, 1), (ok.Status, events));
        Assert.Equal("2", S(ok.Results[1].Value)); // later ops see earlier ones
        Assert.Equal("2", S(unchanged.Read("w", T0).Value));

        var (_, aborted, none) = Run(unchanged, T0, [new WatchedKey("w", 1)], new KvOp(KvOpCode.Set, "w", V("x"), ExpiryMode: ExpiryMode.Clear));
        Assert.Equal((ExecuteStatus.Aborted, 0), (aborted.Status, none));

        // Expiry counts as a change: a watched live key that expired aborts.
        (s, _, _) = Run(s, T0, new KvOp(KvOpCode.Set, "e", V("1"), ExpiryMode: ExpiryMode.AfterMs, Expiry: 100));
        Assert.Equal(ExecuteStatus.Aborted, Run(s, T0 + 100, [new WatchedKey("e", 1)], new KvOp(KvOpCode.Get, "e")).Reply.Status);
    }

    [Fact]
    public void Hash_tags_place_keys_by_the_tag_alone()
    {
        Assert.Equal(KvKeys.PartitionOf("user42", 64), KvKeys.PartitionOf("{user42}:cart", 64));
        Assert.Equal(KvKeys.PartitionOf("{user42}:cart", 64), KvKeys.PartitionOf("orders/{user42}/profile", 64));
        Assert.Equal("{}x", KvKeys.HashTag("{}x").ToString()); // an empty tag does not count
        Assert.Equal("a", KvKeys.HashTag("{a}{b}").ToString());
        Assert.Equal("{a", KvKeys.HashTag("x{{a}").ToString());
        Assert.Equal("no-tag{", KvKeys.HashTag("no-tag{").ToString());
    }
}
