#nullable enable
using System.Collections.Immutable;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue;

/// <summary>What a command decided: the event to journal (none when refused) and the reply once it is durable.</summary>
public readonly record struct KvDecision(object? Event, WriteResult Reply);

/// <summary>
/// The state of one KV partition, immutable: every key it owns with its version, value and expiry. Tombstones
/// (deleted or expired keys) keep their version so that a re-create continues the count. All decisions
/// (versions, compare-and-set, create-only, TTL, limits) and the event application live here; the partition
/// actor only journals and replies. Time is passed in (Unix ms) so that decisions and replay are deterministic:
/// a TTL becomes an absolute expiry inside the event. Writes carrying an <c>Idempotency-Key</c> are remembered in
/// <see cref="Writes"/> so that their retries get the original answer.
/// </summary>
public sealed partial class KvPartitionState
{
    /// <summary>A partition with no keys (and the default <see cref="IdempotencyLimits"/>).</summary>
    public static readonly KvPartitionState Empty = Create(IdempotencyLimits.Default);

    private readonly ImmutableDictionary<string, Entry> _entries;

    // Key order for scans; grows when a new key is first written, shrinks only when compaction purges keys.
    private readonly ImmutableSortedSet<string> _keys;

    private KvPartitionState(ImmutableDictionary<string, Entry> entries, ImmutableSortedSet<string> keys, PurgedKeys purged, IdempotentWrites writes)
    {
        _entries = entries;
        _keys = keys;
        Purged = purged;
        Writes = writes;
    }

    /// <summary>A partition with no keys that remembers idempotent writes within <paramref name="limits"/>.</summary>
    public static KvPartitionState Create(IdempotencyLimits limits) => new(
        ImmutableDictionary.Create<string, Entry>(StringComparer.Ordinal),
        ImmutableSortedSet.Create<string>(StringComparer.Ordinal),
        PurgedKeys.None,
        IdempotentWrites.Empty(limits));

    /// <summary>The writes remembered by their <c>Idempotency-Key</c>.</summary>
    public IdempotentWrites Writes { get; }

    /// <summary>Number of keys held, tombstones included.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// What is left of the keys compaction purged: enough to continue their version count when one is written
    /// again (see <see cref="PurgedKeys"/>).
    /// </summary>
    public PurgedKeys Purged { get; }

    /// <summary>Every entry in key order, tombstones included.</summary>
    public IEnumerable<Entry> Entries => _keys.Select(k => _entries[k]);

    /// <summary>A state holding exactly <paramref name="entries"/>.</summary>
    public static KvPartitionState FromEntries(IEnumerable<Entry> entries) => FromEntries(entries, PurgedKeys.None, IdempotentWrites.Empty(IdempotencyLimits.Default));

    private static KvPartitionState FromEntries(IEnumerable<Entry> entries, PurgedKeys purged, IdempotentWrites writes)
    {
        var map = ImmutableDictionary.CreateBuilder<string, Entry>(StringComparer.Ordinal);
        var keys = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            map[entry.Key] = entry;
            keys.Add(entry.Key);
        }

        return new KvPartitionState(map.ToImmutable(), keys.ToImmutable(), purged, writes);
    }

    /// <summary>The stored entry of <paramref name="key"/> (possibly a tombstone or expired), or null.</summary>
    public Entry? Find(string key) => _entries.GetValueOrDefault(key);

    /// <summary>Reads <paramref name="key"/> at <paramref name="nowUnixMs"/>: expired and deleted keys are absent.</summary>
    public GetResult Read(string key, long nowUnixMs) =>
        Find(key) is { } e && e.IsLiveAt(nowUnixMs)
            ? new GetResult(true, e.Version, e.Value, e.ExpiresAtUnixMs)
            : GetResult.Absent;

    /// <summary>Decides a put: validates it, checks its precondition and picks the next version.</summary>
    public KvDecision Decide(Put put, long nowUnixMs, Settings settings)
    {
        if (KvKeys.Validate(put.Key) is { } keyError)
        {
            return Refuse(WriteStatus.Invalid, keyError);
        }

        if (put.Value.Length > settings.MaxValueBytes)
        {
            return Refuse(WriteStatus.TooLarge, $"the value is {put.Value.Length} bytes; at most {settings.MaxValueBytes} are allowed");
        }

        if (put.TtlSeconds is { } ttl && ttl is < 1 or > Settings.MaxTtlSeconds)
        {
            return Refuse(WriteStatus.Invalid, $"ttl must be between 1 and {Settings.MaxTtlSeconds} seconds (got {ttl})");
        }

        var idempotency = put.IdempotencyKey is null ? null : new IdempotencyRecord(put.IdempotencyKey, IdempotentWrites.Fingerprint(put), nowUnixMs);
        if (Recall(put.Key, idempotency) is { } recalled)
        {
            return recalled;
        }

        var stored = Find(put.Key);
        var liveVersion = stored is not null && stored.IsLiveAt(nowUnixMs) ? stored.Version : 0;
        if (!Holds(put.Precondition, liveVersion))
        {
            return new KvDecision(null, new WriteResult(WriteStatus.PreconditionFailed, liveVersion, Mismatch(put.Precondition, liveVersion)));
        }

        var version = (stored?.Version ?? Purged.LastVersionOf(put.Key)) + 1;
        long? expiresAt = put.TtlSeconds is { } seconds ? nowUnixMs + seconds * 1000 : null;
        return new KvDecision(new ValueWritten(put.Key, version, put.Value, expiresAt, idempotency), new WriteResult(WriteStatus.Written, version));
    }

    /// <summary>Decides a delete: absent keys are not found, a failed precondition changes nothing.</summary>
    public KvDecision Decide(Delete delete, long nowUnixMs)
    {
        if (KvKeys.Validate(delete.Key) is { } keyError)
        {
            return Refuse(WriteStatus.Invalid, keyError);
        }

        var idempotency = delete.IdempotencyKey is null ? null : new IdempotencyRecord(delete.IdempotencyKey, IdempotentWrites.Fingerprint(delete), nowUnixMs);
        if (Recall(delete.Key, idempotency) is { } recalled)
        {
            return recalled;
        }

        var stored = Find(delete.Key);
        var liveVersion = stored is not null && stored.IsLiveAt(nowUnixMs) ? stored.Version : 0;
        if (liveVersion == 0)
        {
            // If-Match on a missing key fails the precondition (RFC 9110); otherwise there is nothing to delete.
            return delete.Precondition.Kind is PreconditionKind.Version or PreconditionKind.Exists
                ? new KvDecision(null, new WriteResult(WriteStatus.PreconditionFailed, 0, Mismatch(delete.Precondition, 0)))
                : new KvDecision(null, new WriteResult(WriteStatus.NotFound, 0, "the key does not exist"));
        }

        if (!Holds(delete.Precondition, liveVersion))
        {
            return new KvDecision(null, new WriteResult(WriteStatus.PreconditionFailed, liveVersion, Mismatch(delete.Precondition, liveVersion)));
        }

        return new KvDecision(new ValueDeleted(delete.Key, liveVersion, idempotency), new WriteResult(WriteStatus.Deleted, liveVersion));
    }

    // A retry of a remembered write: its original answer (nothing to journal), or a refusal of a reused key.
    private KvDecision? Recall(string key, IdempotencyRecord? idempotency)
    {
        if (idempotency is null)
        {
            return null;
        }

        if (IdempotencyLimits.Validate(idempotency.IdempotencyKey) is { } error)
        {
            return Refuse(WriteStatus.Invalid, error);
        }

        return Writes.Recall(key, idempotency.IdempotencyKey, idempotency.Fingerprint, idempotency.AtUnixMs) is { } original
            ? new KvDecision(null, original)
            : null;
    }

    /// <summary>The entry an event leaves behind.</summary>
    public static Entry EntryOf(object @event) => @event switch
    {
        ValueWritten w => new Entry(w.Key, w.Version, w.Value, w.ExpiresAtUnixMs),
        ValueDeleted d => new Entry(d.Key, d.Version, null, null),
        _ => throw new ArgumentException($"Not a KV event: {@event.GetType()}", nameof(@event)),
    };

    /// <summary>Applies a journaled event (and remembers the write by its <c>Idempotency-Key</c> when it carried one).</summary>
    public KvPartitionState Apply(object @event)
    {
        var state = Set(EntryOf(@event));
        return @event switch
        {
            ValueWritten { Idempotency: { } record } w => state.With(Writes.Remember(w.Key, record, new WriteResult(WriteStatus.Written, w.Version))),
            ValueDeleted { Idempotency: { } record } d => state.With(Writes.Remember(d.Key, record, new WriteResult(WriteStatus.Deleted, d.Version))),
            _ => state,
        };
    }

    /// <summary>Replaces (or adds) one entry.</summary>
    public KvPartitionState Set(Entry entry) => new(
        _entries.SetItem(entry.Key, entry),
        _entries.ContainsKey(entry.Key) ? _keys : _keys.Add(entry.Key),
        Purged,
        Writes);

    private KvPartitionState With(IdempotentWrites writes) => ReferenceEquals(writes, Writes) ? this : new(_entries, _keys, Purged, writes);

    /// <summary>Keys held as tombstones (deleted, or expired and dropped by a snapshot): compaction's candidates.</summary>
    public IReadOnlySet<string> Tombstones() => _entries.Values.Where(e => e.Value is null).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Compaction: forgets the tombstones of <paramref name="candidates"/> (the tombstones of the previous round, so
    /// each one has been a tombstone for a whole grace period) and the values that expired more than
    /// <paramref name="graceMs"/> ago, from the entries and the key index. Their versions are folded into
    /// <see cref="Purged"/> so that writing one of them again continues its count. Nothing readable changes:
    /// reads, scans and preconditions see a purged key exactly as its tombstone. Remembered idempotent writes past
    /// their window are forgotten too.
    /// </summary>
    public KvPartitionState Compact(IReadOnlySet<string> candidates, long nowUnixMs, long graceMs)
    {
        var writes = Writes.Forget(nowUnixMs);
        var purged = new List<Entry>();
        foreach (var entry in _entries.Values)
        {
            var expiredLongAgo = entry.Value is not null && entry.ExpiresAtUnixMs is { } at && at + graceMs <= nowUnixMs;
            if (expiredLongAgo || (entry.Value is null && candidates.Contains(entry.Key)))
            {
                purged.Add(entry);
            }
        }

        if (purged.Count == 0)
        {
            return With(writes);
        }

        var gone = purged.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        return FromEntries(_entries.Values.Where(e => !gone.Contains(e.Key)).OrderBy(e => e.Key, StringComparer.Ordinal), Purged.Add(purged), writes);
    }

    /// <summary>Live keys, tombstones (expired values included) and the bytes of keys and values held, for <c>/cluster/shards</c>.</summary>
    public (long Keys, long Tombstones, long Bytes) Measure(long nowUnixMs)
    {
        long keys = 0, tombstones = 0, bytes = 0;
        foreach (var entry in _entries.Values)
        {
            if (entry.IsLiveAt(nowUnixMs))
            {
                keys++;
            }
            else
            {
                tombstones++;
            }

            bytes += System.Text.Encoding.UTF8.GetByteCount(entry.Key) + (entry.Value?.Length ?? 0);
        }

        return (keys, tombstones, bytes + Purged.Bytes);
    }

    /// <summary>
    /// Live keys starting with <paramref name="prefix"/>, strictly after <paramref name="after"/>, in ordinal order:
    /// at most <paramref name="limit"/> of them and, past the first, no more than <paramref name="maxBytes"/> serialized (<see cref="Entry.WireSize"/>).
    /// </summary>
    public ScanResult Scan(string prefix, string? after, int limit, int maxBytes, long nowUnixMs)
    {
        var items = new List<Entry>();
        var bytes = 0L;
        var startAfter = after is not null && string.CompareOrdinal(after, prefix) >= 0;
        var index = StartIndex(startAfter ? after! : prefix, inclusive: !startAfter);
        for (; index < _keys.Count; index++)
        {
            var key = _keys[index];
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                break;
            }

            var entry = _entries[key];
            if (!entry.IsLiveAt(nowUnixMs))
            {
                continue;
            }

            if (items.Count == limit || (items.Count > 0 && bytes + entry.WireSize() > maxBytes))
            {
                return new ScanResult([.. items], More: true);
            }

            items.Add(entry);
            bytes += entry.WireSize();
        }

        return new ScanResult([.. items], More: false);
    }

    /// <summary>
    /// The snapshot to journal at <paramref name="nowUnixMs"/>. Expired values are dropped (their key stays as a
    /// tombstone with its version): they can never be read again, whatever the clock says on replay.
    /// </summary>
    public PartitionSnapshot ToSnapshot(long nowUnixMs) => new(
        [.. Entries.Select(e => e.Value is not null && !e.IsLiveAt(nowUnixMs)
            ? new PartitionSnapshotEntry(e.Key, e.Version, null, null)
            : new PartitionSnapshotEntry(e.Key, e.Version, e.Value, e.ExpiresAtUnixMs))],
        Purged.VersionFloor,
        Purged.Filter,
        Writes.ToSnapshot(nowUnixMs));

    /// <summary>The state a stored snapshot holds, remembering idempotent writes within <paramref name="limits"/> (default: <see cref="IdempotencyLimits.Default"/>).</summary>
    public static KvPartitionState FromSnapshot(PartitionSnapshot snapshot, IdempotencyLimits? limits = null) =>
        FromEntries(
            snapshot.Entries.Select(e => new Entry(e.Key, e.Version, e.Value, e.ExpiresAtUnixMs)),
            new PurgedKeys(snapshot.VersionFloor, snapshot.PurgedFilter),
            IdempotentWrites.FromSnapshot(snapshot.Writes, limits ?? IdempotencyLimits.Default));

    private int StartIndex(string bound, bool inclusive)
    {
        var found = _keys.IndexOf(bound);
        if (found >= 0)
        {
            return inclusive ? found : found + 1;
        }

        return ~found;
    }

    private static bool Holds(Precondition precondition, long liveVersion) => precondition.Kind switch
    {
        PreconditionKind.None => true,
        PreconditionKind.Version => liveVersion != 0 && liveVersion == precondition.Version,
        PreconditionKind.Exists => liveVersion != 0,
        PreconditionKind.Absent => liveVersion == 0,
        _ => false,
    };

    private static string Mismatch(Precondition precondition, long liveVersion)
    {
        var current = liveVersion == 0 ? "the key does not exist" : $"the current version is {liveVersion}";
        return precondition.Kind switch
        {
            PreconditionKind.Version => $"expected version {precondition.Version} but {current}",
            PreconditionKind.Exists => $"expected an existing key but {current}",
            PreconditionKind.Absent => $"expected no key (If-None-Match: *) but {current}",
            _ => current,
        };
    }

    private static KvDecision Refuse(WriteStatus status, string error) => new(null, new WriteResult(status, 0, error));
}
