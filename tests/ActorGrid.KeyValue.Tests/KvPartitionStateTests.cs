using System.Text;
using ActorGrid.Configuration;
using ActorGrid.KeyValue;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue.Tests;

public sealed class KvPartitionStateTests
{
    private const long T0 = 1_700_000_000_000;
    private const string P = "kv-0";
    private static readonly Settings Settings = KvProtocol.Settings.Create(new ActorGridOptions()) with { MaxValueBytes = 16 };

    private static byte[] V(string s) => Encoding.UTF8.GetBytes(s);

    private static (KvPartitionState State, WriteResult Reply) Put(KvPartitionState state, string key, string value, Precondition? precondition = null, long? ttl = null, long now = T0)
    {
        var decision = state.Decide(new Put(P, key, V(value), precondition ?? Precondition.None, ttl), now, Settings);
        return (decision.Event is null ? state : state.Apply(decision.Event), decision.Reply);
    }

    private static (KvPartitionState State, WriteResult Reply) Delete(KvPartitionState state, string key, Precondition? precondition = null, long now = T0)
    {
        var decision = state.Decide(new Delete(P, key, precondition ?? Precondition.None), now);
        return (decision.Event is null ? state : state.Apply(decision.Event), decision.Reply);
    }

    [Fact]
    public void Versions_start_at_one_and_grow_by_one_per_write()
    {
        var (s, r1) = Put(KvPartitionState.Empty, "a", "1");
        (s, var r2) = Put(s, "a", "2");
        (s, var r3) = Put(s, "b", "x");

        Assert.Equal(new WriteResult(WriteStatus.Written, 1), r1);
        Assert.Equal(new WriteResult(WriteStatus.Written, 2), r2);
        Assert.Equal(new WriteResult(WriteStatus.Written, 1), r3);
        var read = s.Read("a", T0);
        Assert.True(read.Found);
        Assert.Equal(2, read.Version);
        Assert.Equal("2", Encoding.UTF8.GetString(read.Value!));
    }

    [Fact]
    public void Compare_and_set_writes_only_at_the_expected_version()
    {
        var (s, _) = Put(KvPartitionState.Empty, "a", "1");

        var (afterStale, stale) = Put(s, "a", "x", Precondition.ForVersion(2));
        Assert.Equal(WriteStatus.PreconditionFailed, stale.Status);
        Assert.Equal(1, stale.Version);
        Assert.Same(s, afterStale);

        (s, var ok) = Put(s, "a", "2", Precondition.ForVersion(1));
        Assert.Equal(new WriteResult(WriteStatus.Written, 2), ok);

        var (_, missing) = Put(KvPartitionState.Empty, "nope", "x", Precondition.ForVersion(1));
        Assert.Equal(WriteStatus.PreconditionFailed, missing.Status);
        Assert.Equal(0, missing.Version);
    }

    [Fact]
    public void Create_only_and_if_match_any_follow_existence()
    {
        var (s, created) = Put(KvPartitionState.Empty, "a", "1", Precondition.Absent);
        Assert.Equal(WriteStatus.Written, created.Status);

        var (_, again) = Put(s, "a", "2", Precondition.Absent);
        Assert.Equal(WriteStatus.PreconditionFailed, again.Status);

        var (_, exists) = Put(s, "a", "2", Precondition.Exists);
        Assert.Equal(WriteStatus.Written, exists.Status);

        var (_, notExists) = Put(s, "b", "2", Precondition.Exists);
        Assert.Equal(WriteStatus.PreconditionFailed, notExists.Status);
    }

    [Fact]
    public void Delete_keeps_a_tombstone_so_a_re_create_continues_the_count()
    {
        var (s, _) = Put(KvPartitionState.Empty, "a", "1");
        (s, _) = Put(s, "a", "2");
        (s, var deleted) = Delete(s, "a");

        Assert.Equal(new WriteResult(WriteStatus.Deleted, 2), deleted);
        Assert.False(s.Read("a", T0).Found);
        Assert.Equal(1, s.Count);

        (s, var recreated) = Put(s, "a", "3", Precondition.Absent);
        Assert.Equal(new WriteResult(WriteStatus.Written, 3), recreated);
        Assert.Equal(3, s.Read("a", T0).Version);
    }

    [Fact]
    public void Delete_of_a_missing_key_or_a_wrong_version_changes_nothing()
    {
        var (_, missing) = Delete(KvPartitionState.Empty, "a");
        Assert.Equal(WriteStatus.NotFound, missing.Status);

        var (_, missingIfMatch) = Delete(KvPartitionState.Empty, "a", Precondition.ForVersion(1));
        Assert.Equal(WriteStatus.PreconditionFailed, missingIfMatch.Status);

        var (s, _) = Put(KvPartitionState.Empty, "a", "1");
        var (after, wrong) = Delete(s, "a", Precondition.ForVersion(7));
        Assert.Equal(WriteStatus.PreconditionFailed, wrong.Status);
        Assert.Same(s, after);
        Assert.True(after.Read("a", T0).Found);

        (s, var ok) = Delete(s, "a", Precondition.ForVersion(1));
        Assert.Equal(WriteStatus.Deleted, ok.Status);
        var (_, twice) = Delete(s, "a");
        Assert.Equal(WriteStatus.NotFound, twice.Status);
    }

    [Fact]
    public void Ttl_is_an_absolute_expiry_in_the_event_and_expired_keys_are_absent()
    {
        var decision = KvPartitionState.Empty.Decide(new Put(P, "a", V("1"), Precondition.None, 10), T0, Settings);
        var written = Assert.IsType<ValueWritten>(decision.Event);
        Assert.Equal(T0 + 10_000, written.ExpiresAtUnixMs);

        // Replaying the event later yields the same expiry: nothing depends on the replay clock.
        var replayed = KvPartitionState.Empty.Apply(written);
        Assert.True(replayed.Read("a", T0 + 9_999).Found);
        Assert.False(replayed.Read("a", T0 + 10_000).Found);

        var (_, casOnExpired) = Put(replayed, "a", "x", Precondition.ForVersion(1), now: T0 + 10_000);
        Assert.Equal(WriteStatus.PreconditionFailed, casOnExpired.Status);
        var (_, deleteExpired) = Delete(replayed, "a", now: T0 + 10_000);
        Assert.Equal(WriteStatus.NotFound, deleteExpired.Status);

        var (s, created) = Put(replayed, "a", "2", Precondition.Absent, now: T0 + 10_000);
        Assert.Equal(new WriteResult(WriteStatus.Written, 2), created);
        Assert.Null(s.Find("a")!.ExpiresAtUnixMs);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    [InlineData(Settings.MaxTtlSeconds + 1)]
    public void Bad_ttl_is_refused(long ttl)
    {
        var decision = KvPartitionState.Empty.Decide(new Put(P, "a", V("1"), Precondition.None, ttl), T0, Settings);
        Assert.Null(decision.Event);
        Assert.Equal(WriteStatus.Invalid, decision.Reply.Status);
    }

    [Fact]
    public void Limits_on_keys_and_values_are_enforced_and_nothing_is_stored()
    {
        var maxKey = new string('é', 512); // 1024 UTF-8 bytes
        Assert.Equal(WriteStatus.Written, Put(KvPartitionState.Empty, maxKey, "v").Reply.Status);
        Assert.Equal(WriteStatus.Written, Put(KvPartitionState.Empty, "a", new string('x', 16)).Reply.Status);

        foreach (var bad in new[] { "", maxKey + "a", "tab\there", "nul\0", "\u007f", "lone\ud800" })
        {
            var decision = KvPartitionState.Empty.Decide(new Put(P, bad, V("v"), Precondition.None, null), T0, Settings);
            Assert.Null(decision.Event);
            Assert.Equal(WriteStatus.Invalid, decision.Reply.Status);
        }

        var tooLarge = KvPartitionState.Empty.Decide(new Put(P, "a", new byte[17], Precondition.None, null), T0, Settings);
        Assert.Null(tooLarge.Event);
        Assert.Equal(WriteStatus.TooLarge, tooLarge.Reply.Status);
    }

    [Fact]
    public void Scan_returns_live_keys_with_the_prefix_in_ordinal_order_and_pages()
    {
        var s = KvPartitionState.Empty;
        foreach (var key in new[] { "user/b", "user/a", "user/B", "userx", "user/c", "user/", "other", "user/é", "user/d" })
        {
            (s, _) = Put(s, key, "v" + key);
        }

        (s, _) = Delete(s, "user/c");
        (s, _) = Put(s, "user/t", "ttl", ttl: 1);

        var all = s.Scan("user/", null, 100, int.MaxValue, T0 + 1_000);
        Assert.Equal(["user/", "user/B", "user/a", "user/b", "user/d", "user/é"], all.Items.Select(i => i.Key));
        Assert.False(all.More);

        var first = s.Scan("user/", null, 2, int.MaxValue, T0 + 1_000);
        Assert.Equal(["user/", "user/B"], first.Items.Select(i => i.Key));
        Assert.True(first.More);

        var second = s.Scan("user/", "user/B", 3, int.MaxValue, T0 + 1_000);
        Assert.Equal(["user/a", "user/b", "user/d"], second.Items.Select(i => i.Key));
        Assert.True(second.More);

        var last = s.Scan("user/", "user/d", 3, int.MaxValue, T0 + 1_000);
        Assert.Equal(["user/é"], last.Items.Select(i => i.Key));
        Assert.False(last.More);

        // A cursor before the prefix starts at the prefix; one past every match ends the scan.
        Assert.Equal(6, s.Scan("user/", "a", 100, int.MaxValue, T0 + 1_000).Items.Length);
        Assert.Empty(s.Scan("user/", "zzz", 100, int.MaxValue, T0 + 1_000).Items);

        // The byte budget stops a page early but always returns at least one item.
        var tight = s.Scan("user/", null, 100, 1, T0 + 1_000);
        Assert.Single(tight.Items);
        Assert.True(tight.More);
    }

    [Fact]
    public void Snapshot_drops_expired_values_but_keeps_versions()
    {
        var (s, _) = Put(KvPartitionState.Empty, "a", "1", ttl: 1);
        (s, _) = Put(s, "b", "2");
        (s, _) = Delete(s, "b");
        (s, _) = Put(s, "c", "3");

        var snapshot = s.ToSnapshot(T0 + 1_000);
        var restored = KvPartitionState.FromSnapshot(snapshot);

        Assert.Equal(new Entry("a", 1, null, null), restored.Find("a"));
        Assert.Equal(new Entry("b", 1, null, null), restored.Find("b"));
        Assert.Equal("3", Encoding.UTF8.GetString(restored.Read("c", T0).Value!));
        Assert.Equal(2, Put(restored, "a", "again").Reply.Version);
    }

    [Fact]
    public void Merge_never_skips_or_repeats_a_key_across_partitions()
    {
        // Partition A stopped early after "b" (it may hold "c"..); B returned everything it has.
        var a = new ScanResult([E("a"), E("b")], More: true);
        var b = new ScanResult([E("a1"), E("b1"), E("z")], More: false);

        var page = KvScanMerge.Merge([a, b], limit: 10, maxBytes: int.MaxValue);
        Assert.Equal(["a", "a1", "b"], page.Items.Select(i => i.Key));
        Assert.Equal("b", page.Next);

        var limited = KvScanMerge.Merge([new ScanResult([E("a"), E("c")], false), new ScanResult([E("b")], false)], limit: 2, maxBytes: int.MaxValue);
        Assert.Equal(["a", "b"], limited.Items.Select(i => i.Key));
        Assert.Equal("b", limited.Next);

        var done = KvScanMerge.Merge([new ScanResult([E("a")], false), new ScanResult([], false)], limit: 2, maxBytes: int.MaxValue);
        Assert.Null(done.Next);
        Assert.Null(KvScanMerge.Merge([new ScanResult([], false)], 5, 100).Next);

        static Entry E(string key) => new(key, 1, [1, 2, 3], null);
    }

    [Fact]
    public void Keys_are_placed_by_a_stable_hash_spread_over_all_partitions()
    {
        // Pinned: placement must never change between processes or releases, or keys would be lost.
        Assert.Equal(KvKeys.PartitionOf("user/42", 64), KvKeys.PartitionOf("user/42", 64));
        Assert.Equal("kv-" + KvKeys.PartitionOf("user/42", 64), KvKeys.EntityIdFor("user/42", 64));
        Assert.Equal(PinnedPartitionOfUser42, KvKeys.PartitionOf("user/42", 64));

        var counts = new int[16];
        for (var i = 0; i < 16_000; i++)
        {
            counts[KvKeys.PartitionOf("key-" + i, 16)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }

    [Fact]
    public void Load_meter_averages_over_its_window()
    {
        var meter = new LoadMeter(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 50; i++)
        {
            meter.Record(T0 + i * 100); // 50 ops over 5 s
        }

        Assert.Equal(5.0, meter.Rate(T0 + 5_000));
        Assert.Equal(0.0, meter.Rate(T0 + 60_000));
    }

    private const int PinnedPartitionOfUser42 = 6;

    [Fact]
    public void Compaction_purges_old_tombstones_and_long_expired_values_and_versions_continue()
    {
        const long Grace = 60_000;
        var (s, _) = Put(KvPartitionState.Empty, "gone", "1");
        (s, _) = Put(s, "gone", "2");
        (s, _) = Delete(s, "gone");
        (s, _) = Put(s, "ttl", "x", ttl: 1);
        (s, _) = Put(s, "kept", "k");

        // First round: the tombstone becomes a candidate; the value expired less than a grace period ago stays.
        var first = s.Compact(new HashSet<string>(), T0 + 2_000, Grace);
        Assert.Same(s, first);
        var candidates = first.Tombstones();
        Assert.Equal(["gone"], candidates);

        // A grace period later both go, from the entries and the key index; what reads see is unchanged.
        var compacted = first.Compact(candidates, T0 + 2_000 + Grace, Grace);
        Assert.Null(compacted.Find("gone"));
        Assert.Null(compacted.Find("ttl"));
        Assert.Equal(["kept"], compacted.Entries.Select(e => e.Key));
        Assert.Equal((1L, 0L), (compacted.Measure(T0).Keys, compacted.Measure(T0).Tombstones));
        Assert.False(compacted.Read("gone", T0).Found);
        Assert.Equal(["kept"], compacted.Scan("", null, 10, 1000, T0 + 2_000 + Grace).Items.Select(e => e.Key));

        // Preconditions see a purged key as absent, and a re-create continues above every version it had.
        var (_, casOld) = Put(compacted, "gone", "x", Precondition.ForVersion(2));
        Assert.Equal(WriteStatus.PreconditionFailed, casOld.Status);
        var (again, recreated) = Put(compacted, "gone", "3", Precondition.Absent);
        Assert.Equal(WriteStatus.Written, recreated.Status);
        Assert.True(recreated.Version > 2, $"version {recreated.Version} must continue past 2");
        Assert.Equal(recreated.Version + 1, Put(again, "gone", "4").Reply.Version);
        Assert.Equal(1, Put(compacted, "fresh", "f").Reply.Version);

        // The snapshot carries what was purged.
        var restored = KvPartitionState.FromSnapshot(compacted.ToSnapshot(T0));
        Assert.Equal(recreated.Version, Put(restored, "gone", "3").Reply.Version);
    }

    [Fact]
    public void A_tombstone_recreated_before_its_round_is_not_purged()
    {
        var (s, _) = Put(KvPartitionState.Empty, "k", "1");
        (s, _) = Delete(s, "k");
        var candidates = s.Tombstones();
        (s, _) = Put(s, "k", "2");

        var compacted = s.Compact(candidates, T0 + 1_000_000, 1);

        Assert.Equal(2, compacted.Find("k")!.Version);
        Assert.True(compacted.Read("k", T0).Found);
    }

    [Fact]
    public void Scan_pages_are_cut_by_serialized_size_so_many_small_keys_fit_a_frame()
    {
        var s = KvPartitionState.Empty;
        for (var i = 0; i < 2000; i++)
        {
            (s, _) = Put(s, $"k/{i:D5}/" + new string('x', 200), "v");
        }

        var page = s.Scan("k/", null, 1000, 64 * 1024, T0);

        Assert.True(page.More);
        Assert.InRange(page.Items.Sum(e => e.WireSize()), 1, 64 * 1024);
        Assert.True(page.Items.Length < 1000, "values alone (1 byte each) would have let all 1000 through");
    }
}
