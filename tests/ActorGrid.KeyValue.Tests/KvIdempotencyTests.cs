using System.Text;
using ActorGrid.Configuration;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue.Tests;

/// <summary>Writes with an <c>Idempotency-Key</c>, in the pure partition state: retries get the original answer and write nothing.</summary>
public sealed class KvIdempotencyTests
{
    private const long T0 = 1_700_000_000_000;
    private const string P = "kv-0";
    private static readonly Settings Settings = KvProtocol.Settings.Create(new ActorGridOptions());

    private static byte[] V(string s) => Encoding.UTF8.GetBytes(s);

    private static (KvPartitionState State, WriteResult Reply, object? Event) Put(
        KvPartitionState state, string key, string value, string? idempotencyKey, Precondition? precondition = null, long? ttl = null, long now = T0)
    {
        var decision = state.Decide(new Put(P, key, V(value), precondition ?? Precondition.None, ttl, idempotencyKey), now, Settings);
        return (decision.Event is null ? state : state.Apply(decision.Event), decision.Reply, decision.Event);
    }

    private static (KvPartitionState State, WriteResult Reply, object? Event) Delete(
        KvPartitionState state, string key, string? idempotencyKey, Precondition? precondition = null, long now = T0)
    {
        var decision = state.Decide(new Delete(P, key, precondition ?? Precondition.None, idempotencyKey), now);
        return (decision.Event is null ? state : state.Apply(decision.Event), decision.Reply, decision.Event);
    }

    [Fact]
    public void A_retried_plain_put_answers_the_original_version_and_writes_nothing()
    {
        var (s, first, _) = Put(KvPartitionState.Empty, "a", "x", "req-1");
        (s, var other, _) = Put(s, "a", "y", "req-2");
        var (after, retry, retryEvent) = Put(s, "a", "x", "req-1", now: T0 + 1000);

        Assert.Equal(new WriteResult(WriteStatus.Written, 1), first);
        Assert.Equal(new WriteResult(WriteStatus.Written, 2), other);
        Assert.Equal(new WriteResult(WriteStatus.Written, 1), retry);
        Assert.Null(retryEvent);
        Assert.Same(s, after);
        Assert.Equal(2, after.Read("a", T0).Version);
        Assert.Equal("y", Encoding.UTF8.GetString(after.Read("a", T0).Value!));
    }

    [Fact]
    public void A_compare_and_set_retried_after_it_landed_answers_200_with_its_version_not_412()
    {
        var (s, _, _) = Put(KvPartitionState.Empty, "a", "v1", null);
        (s, var cas, _) = Put(s, "a", "v2", "cas-1", Precondition.ForVersion(1));
        var (_, retry, retryEvent) = Put(s, "a", "v2", "cas-1", Precondition.ForVersion(1));

        Assert.Equal(new WriteResult(WriteStatus.Written, 2), cas);
        Assert.Equal(new WriteResult(WriteStatus.Written, 2), retry);
        Assert.Null(retryEvent);

        // Without the key the same retry is refused: the header is what makes it safe.
        var (_, unkeyed, _) = Put(s, "a", "v2", null, Precondition.ForVersion(1));
        Assert.Equal(WriteStatus.PreconditionFailed, unkeyed.Status);
    }

    [Fact]
    public void A_retried_delete_answers_deleted_not_404_and_a_create_only_retry_answers_200()
    {
        var (s, _, _) = Put(KvPartitionState.Empty, "a", "v1", null);
        (s, var deleted, _) = Delete(s, "a", "del-1");
        var (_, retry, retryEvent) = Delete(s, "a", "del-1");
        Assert.Equal(new WriteResult(WriteStatus.Deleted, 1), deleted);
        Assert.Equal(new WriteResult(WriteStatus.Deleted, 1), retry);
        Assert.Null(retryEvent);

        (s, var created, _) = Put(s, "a", "v2", "create-1", Precondition.Absent);
        var (_, createRetry, _) = Put(s, "a", "v2", "create-1", Precondition.Absent);
        Assert.Equal(new WriteResult(WriteStatus.Written, 2), created);
        Assert.Equal(created, createRetry);
    }

    [Fact]
    public void The_same_key_for_a_different_request_is_refused_and_changes_nothing()
    {
        var (s, _, _) = Put(KvPartitionState.Empty, "a", "x", "req-1");

        var (afterValue, otherValue, e1) = Put(s, "a", "different", "req-1");
        var (_, otherTtl, _) = Put(s, "a", "x", "req-1", ttl: 60);
        var (_, otherPrecondition, _) = Put(s, "a", "x", "req-1", Precondition.ForVersion(1));
        var (_, asDelete, _) = Delete(s, "a", "req-1");

        foreach (var refused in new[] { otherValue, otherTtl, otherPrecondition, asDelete })
        {
            Assert.Equal(WriteStatus.IdempotencyKeyReused, refused.Status);
            Assert.Contains("req-1", refused.Error);
        }

        Assert.Null(e1);
        Assert.Same(s, afterValue);

        // Keys are scoped to the KV key: the same idempotency key on another key is another request.
        var (_, elsewhere, _) = Put(s, "b", "different", "req-1");
        Assert.Equal(new WriteResult(WriteStatus.Written, 1), elsewhere);
    }

    [Fact]
    public void Refused_writes_are_not_remembered_so_their_retry_is_decided_again()
    {
        var (s, _, _) = Put(KvPartitionState.Empty, "a", "v1", null);
        var (afterRefusal, refused, _) = Put(s, "a", "v2", "cas-9", Precondition.ForVersion(7));
        Assert.Equal(WriteStatus.PreconditionFailed, refused.Status);
        Assert.Equal(0, afterRefusal.Writes.Count);

        var (_, missing, _) = Delete(s, "nope", "del-9");
        Assert.Equal(WriteStatus.NotFound, missing.Status);
        (s, _, _) = Delete(s, "a", null);
        var (_, nowAbsent, _) = Put(s, "a", "v2", "create-9", Precondition.Absent);
        Assert.Equal(WriteStatus.Written, nowAbsent.Status);
    }

    [Fact]
    public void A_retry_after_the_window_is_a_new_request()
    {
        var window = (long)IdempotencyLimits.Default.Window.TotalMilliseconds;
        var (s, _, _) = Put(KvPartitionState.Empty, "a", "x", "req-1");

        var (_, justInside, _) = Put(s, "a", "x", "req-1", now: T0 + window - 1);
        var (_, outside, outsideEvent) = Put(s, "a", "x", "req-1", now: T0 + window);

        Assert.Equal(new WriteResult(WriteStatus.Written, 1), justInside);
        Assert.Equal(new WriteResult(WriteStatus.Written, 2), outside);
        Assert.NotNull(outsideEvent);
        Assert.Equal(0, s.Compact(new HashSet<string>(), T0 + window, 1000).Writes.Count);
    }

    [Fact]
    public void Remembered_writes_are_bounded_in_count_oldest_forgotten_first()
    {
        var s = KvPartitionState.Create(new IdempotencyLimits(TimeSpan.FromHours(1), 3));
        for (var i = 0; i < 5; i++)
        {
            (s, _, _) = Put(s, "k" + i, "x", "req-" + i, now: T0 + i);
        }

        Assert.Equal(3, s.Writes.Count);
        var (_, forgotten, forgottenEvent) = Put(s, "k0", "x", "req-0", now: T0 + 10);
        var (_, remembered, rememberedEvent) = Put(s, "k4", "x", "req-4", now: T0 + 10);
        Assert.Equal(new WriteResult(WriteStatus.Written, 2), forgotten);
        Assert.NotNull(forgottenEvent);
        Assert.Equal(new WriteResult(WriteStatus.Written, 1), remembered);
        Assert.Null(rememberedEvent);
    }

    [Fact]
    public void Remembered_writes_survive_replay_of_the_events_and_a_snapshot()
    {
        var events = new List<object>();
        var s = KvPartitionState.Empty;
        foreach (var (key, value, idem) in new[] { ("a", "1", "r1"), ("b", "2", "r2"), ("a", "3", (string?)null) })
        {
            (s, _, var e) = Put(s, key, value, idem);
            events.Add(e!);
        }

        (s, _, var deleted) = Delete(s, "b", "r3");
        events.Add(deleted!);

        var replayed = events.Aggregate(KvPartitionState.Empty, (state, e) => state.Apply(e));
        var fromSnapshot = KvPartitionState.FromSnapshot(s.ToSnapshot(T0 + 1));
        foreach (var state in new[] { replayed, fromSnapshot })
        {
            Assert.Equal(3, state.Writes.Count);
            Assert.Equal(new WriteResult(WriteStatus.Written, 1), Put(state, "a", "1", "r1").Reply);
            Assert.Equal(new WriteResult(WriteStatus.Deleted, 1), Delete(state, "b", "r3").Reply);
            Assert.Equal(WriteStatus.IdempotencyKeyReused, Put(state, "b", "other", "r2").Reply.Status);
        }

        // Past the window, a snapshot leaves them out.
        Assert.Null(s.ToSnapshot(T0 + (long)IdempotencyLimits.Default.Window.TotalMilliseconds).Writes);
    }

    [Fact]
    public void Events_without_a_key_carry_no_idempotency_record()
    {
        var (_, _, e) = Put(KvPartitionState.Empty, "a", "x", null);
        Assert.Null(((ValueWritten)e!).Idempotency);
        var (_, _, keyed) = Put(KvPartitionState.Empty, "a", "x", "req-1");
        Assert.Equal(new IdempotencyRecord("req-1", IdempotentWrites.Fingerprint(new Put(P, "a", V("x"), Precondition.None, null)), T0), ((ValueWritten)keyed!).Idempotency);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\there")]
    [InlineData("naïve")]
    public void A_malformed_key_reaching_the_partition_is_refused(string idempotencyKey)
    {
        var (s, reply, e) = Put(KvPartitionState.Empty, "a", "x", idempotencyKey);
        Assert.Equal(WriteStatus.Invalid, reply.Status);
        Assert.Null(e);
        Assert.Equal(0, s.Count);
        Assert.Equal(WriteStatus.Invalid, Put(KvPartitionState.Empty, "a", "x", new string('k', 256)).Reply.Status);
    }

    [Fact]
    public void A_redis_write_after_compaction_continues_the_version_of_a_purged_key()
    {
        var (s, _, _) = Put(KvPartitionState.Empty, "a", "x", null);
        (s, _, _) = Put(s, "a", "y", null);
        (s, _, _) = Delete(s, "a", null);
        s = s.Compact(s.Tombstones(), T0 + 10, 1);
        Assert.Null(s.Find("a"));

        var executed = s.Decide(new Execute(P, [new KvOp(KvOpCode.Set, "a", V("z"), ExpiryMode: ExpiryMode.Clear)]), T0 + 20, Settings);
        Assert.Equal(3, executed.Reply.Results[0].Version);
    }
}
