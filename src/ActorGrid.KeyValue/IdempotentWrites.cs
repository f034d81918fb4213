#nullable enable
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.IO.Hashing;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue;

/// <summary>How long, and how many, writes a partition remembers by their <c>Idempotency-Key</c>.</summary>
/// <param name="Window">A retry within this long after the write was decided gets the original answer (<c>Kv:IdempotencyWindow</c>).</param>
/// <param name="MaxKeys">Most remembered writes per partition; beyond it the oldest are forgotten first (<c>Kv:MaxIdempotencyKeys</c>).</param>
public sealed record IdempotencyLimits(TimeSpan Window, int MaxKeys)
{
    /// <summary>One hour, 5,000 writes per partition.</summary>
    public static readonly IdempotencyLimits Default = new(TimeSpan.FromHours(1), 5000);

    /// <summary>Longest <c>Idempotency-Key</c>, in characters.</summary>
    public const int MaxKeyLength = 255;

    /// <summary>
    /// Why <paramref name="idempotencyKey"/> cannot be an idempotency key (1–255 visible ASCII characters, 0x21–0x7E),
    /// or null when it can.
    /// </summary>
    public static string? Validate(string idempotencyKey)
    {
        if (idempotencyKey.Length is 0 or > MaxKeyLength)
        {
            return $"Idempotency-Key must be 1-{MaxKeyLength} characters (got {idempotencyKey.Length})";
        }

        foreach (var c in idempotencyKey)
        {
            if (c is < '!' or > '~')
            {
                return $"Idempotency-Key must be visible ASCII characters (0x21-0x7E), found U+{(int)c:X4}";
            }
        }

        return null;
    }
}

/// <summary>
/// The writes a partition remembers by their <c>Idempotency-Key</c>, immutable: for each (KV key, idempotency key),
/// the fingerprint of the request and the answer it got. A retry of a remembered write (same key, same idempotency
/// key, same request) gets that answer again and changes nothing, whatever happened to the key since; the same
/// idempotency key with a different request is refused. The record travels inside the write's own event
/// (<see cref="IdempotencyRecord"/>), so it is durable exactly when the write is, and recovery on another node
/// remembers what the old owner acknowledged. Bounded by <see cref="IdempotencyLimits"/>: entries older than the
/// window (judged by the times inside the events, so replay forgets the same ones) and the oldest beyond the count
/// are forgotten. Only writes that changed something are remembered: a refused one (412, 404) changed nothing, and
/// its retry is decided afresh.
/// </summary>
public sealed class IdempotentWrites
{
    private readonly ImmutableDictionary<Slot, Remembered> _writes;

    // Insertion order (≈ time order) for forgetting; may hold slots since replaced, checked against the dictionary.
    private readonly ImmutableQueue<(Slot Slot, long AtUnixMs)> _order;

    private IdempotentWrites(IdempotencyLimits limits, ImmutableDictionary<Slot, Remembered> writes, ImmutableQueue<(Slot, long)> order)
    {
        Limits = limits;
        _writes = writes;
        _order = order;
    }

    /// <summary>Nothing remembered, with <paramref name="limits"/>.</summary>
    public static IdempotentWrites Empty(IdempotencyLimits limits) => new(limits, ImmutableDictionary<Slot, Remembered>.Empty, ImmutableQueue<(Slot, long)>.Empty);

    /// <summary>The bounds it keeps.</summary>
    public IdempotencyLimits Limits { get; }

    /// <summary>Writes remembered (some may be past the window until the next <see cref="Forget"/>).</summary>
    public int Count => _writes.Count;

    /// <summary>
    /// The answer to a request carrying <paramref name="idempotencyKey"/> for <paramref name="key"/> when it is a retry
    /// of a remembered write: the original answer if <paramref name="fingerprint"/> matches, a refusal if the
    /// idempotency key was used for a different request; null when it is not remembered (new, or past the window).
    /// </summary>
    public WriteResult? Recall(string key, string idempotencyKey, long fingerprint, long nowUnixMs)
    {
        if (!_writes.TryGetValue(new Slot(key, idempotencyKey), out var remembered) || !Within(remembered.AtUnixMs, nowUnixMs))
        {
            return null;
        }

        return remembered.Fingerprint == fingerprint
            ? remembered.Result
            : new WriteResult(WriteStatus.IdempotencyKeyReused, remembered.Result.Version,
                $"Idempotency-Key '{idempotencyKey}' was used for a different request on key '{key}'; use a new key for a new request");
    }

    /// <summary>These, with the write of <paramref name="key"/> that <paramref name="record"/> stamps remembered as <paramref name="result"/>.</summary>
    public IdempotentWrites Remember(string key, IdempotencyRecord record, WriteResult result)
    {
        var slot = new Slot(key, record.IdempotencyKey);
        return new IdempotentWrites(Limits, _writes.SetItem(slot, new Remembered(record.Fingerprint, record.AtUnixMs, result)), _order.Enqueue((slot, record.AtUnixMs)))
            .Forget(record.AtUnixMs);
    }

    /// <summary>These without the writes past the window at <paramref name="nowUnixMs"/> and the oldest beyond the count.</summary>
    public IdempotentWrites Forget(long nowUnixMs)
    {
        var writes = _writes;
        var order = _order;
        while (!order.IsEmpty)
        {
            var (slot, at) = order.Peek();
            var current = writes.TryGetValue(slot, out var remembered) && remembered.AtUnixMs == at;
            if (current && writes.Count <= Limits.MaxKeys && Within(at, nowUnixMs))
            {
                break;
            }

            order = order.Dequeue();
            if (current)
            {
                writes = writes.Remove(slot);
            }
        }

        return ReferenceEquals(order, _order) ? this : new IdempotentWrites(Limits, writes, order);
    }

    /// <summary>The remembered writes within the window at <paramref name="nowUnixMs"/>, oldest first, for a snapshot (null: none).</summary>
    public PartitionSnapshotWrite[]? ToSnapshot(long nowUnixMs)
    {
        var kept = Forget(nowUnixMs);
        var list = kept._order
            .Where(o => kept._writes.TryGetValue(o.Slot, out var r) && r.AtUnixMs == o.AtUnixMs)
            .Select(o => (o.Slot, Write: kept._writes[o.Slot]))
            .Select(o => new PartitionSnapshotWrite(o.Slot.Key, o.Slot.IdempotencyKey, o.Write.Fingerprint, o.Write.AtUnixMs,
                o.Write.Result.Status == WriteStatus.Deleted, o.Write.Result.Version))
            .ToArray();
        return list.Length == 0 ? null : list;
    }

    /// <summary>The writes a snapshot holds (oldest first), within <paramref name="limits"/>.</summary>
    public static IdempotentWrites FromSnapshot(IEnumerable<PartitionSnapshotWrite>? writes, IdempotencyLimits limits)
    {
        var state = Empty(limits);
        foreach (var w in writes ?? [])
        {
            var result = new WriteResult(w.Deleted ? WriteStatus.Deleted : WriteStatus.Written, w.Version);
            state = state.Remember(w.Key, new IdempotencyRecord(w.IdempotencyKey, w.Fingerprint, w.AtUnixMs), result);
        }

        return state;
    }

    /// <summary>
    /// The fingerprint of a request: everything that decides its outcome but the key (operation, precondition, TTL,
    /// value), so that a retry is recognised and a different request under the same idempotency key is not.
    /// </summary>
    public static long Fingerprint(Put put) => Fingerprint('P', put.Precondition, put.TtlSeconds ?? -1, put.Value);

    /// <inheritdoc cref="Fingerprint(Put)"/>
    public static long Fingerprint(Delete delete) => Fingerprint('D', delete.Precondition, -1, []);

    private static long Fingerprint(char operation, Precondition precondition, long ttl, ReadOnlySpan<byte> value)
    {
        Span<byte> header = stackalloc byte[26];
        header[0] = (byte)operation;
        header[1] = (byte)precondition.Kind;
        BinaryPrimitives.WriteInt64LittleEndian(header[2..], precondition.Version);
        BinaryPrimitives.WriteInt64LittleEndian(header[10..], ttl);
        BinaryPrimitives.WriteInt64LittleEndian(header[18..], value.Length);
        var hash = new XxHash3();
        hash.Append(header);
        hash.Append(value);
        return (long)hash.GetCurrentHashAsUInt64();
    }

    private bool Within(long atUnixMs, long nowUnixMs) => nowUnixMs - atUnixMs < (long)Limits.Window.TotalMilliseconds;

    private readonly record struct Slot(string Key, string IdempotencyKey);

    private sealed record Remembered(long Fingerprint, long AtUnixMs, WriteResult Result);
}
