#nullable enable
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Partitions;

/// <summary>
/// The newest records of a partition, contiguous by offset, bounded by count and bytes. Reads of older offsets go to
/// the journal, so a partition never holds its whole log in memory.
/// </summary>
internal sealed class RecordTail(int maxRecords, long maxBytes)
{
    private const int InitialCapacity = 64;
    private StoredRecord[] _ring = [];
    private int _head;
    private int _count;

    /// <summary>Records held.</summary>
    public int Count => _count;

    /// <summary>Estimated bytes held.</summary>
    public long Bytes { get; private set; }

    /// <summary>Offset of the oldest record held; meaningful when <see cref="Count"/> &gt; 0.</summary>
    public long FirstOffset => _count == 0 ? -1 : _ring[_head].Offset;

    /// <summary>The estimated memory of one record.</summary>
    public static long SizeOf(StoredRecord record) => record.Value.Length + (record.Key?.Length ?? 0) * 2L + 64;

    /// <summary>Adds the next record (its offset must follow the newest one), evicting the oldest as needed.</summary>
    public void Add(StoredRecord record)
    {
        if (_count > 0 && record.Offset != this[_count - 1].Offset + 1)
        {
            throw new InvalidOperationException($"Tail offsets must be contiguous: got {record.Offset} after {this[_count - 1].Offset}");
        }

        var size = SizeOf(record);
        while (_count > 0 && (_count >= maxRecords || Bytes + size > maxBytes))
        {
            RemoveOldest();
        }

        if (maxRecords <= 0 || size > maxBytes)
        {
            return;
        }

        if (_count == _ring.Length)
        {
            Grow();
        }

        _ring[(_head + _count) % _ring.Length] = record;
        _count++;
        Bytes += size;
    }

    /// <summary>Drops records below <paramref name="offset"/>.</summary>
    public void TrimBelow(long offset)
    {
        while (_count > 0 && _ring[_head].Offset < offset)
        {
            RemoveOldest();
        }
    }

    /// <summary>Drops everything.</summary>
    public void Clear()
    {
        _ring = [];
        _head = 0;
        _count = 0;
        Bytes = 0;
    }

    /// <summary>
    /// Records from <paramref name="offset"/> (which must be held), at most <paramref name="max"/> and what
    /// <paramref name="budget"/> admits.
    /// </summary>
    public StoredRecord[] Read(long offset, int max, FetchBudget budget)
    {
        if (_count == 0 || offset < FirstOffset)
        {
            return [];
        }

        var start = (int)(offset - FirstOffset);
        var result = new List<StoredRecord>(Math.Min(max, Math.Max(0, _count - start)));
        for (var i = start; i < _count && result.Count < max && budget.TryAdd(this[i]); i++)
        {
            result.Add(this[i]);
        }

        return [.. result];
    }

    /// <summary>
    /// Offset of the first held record appended at or after <paramref name="timestamp"/> (timestamps are
    /// non-decreasing), or null when every held record is older.
    /// </summary>
    public long? FirstOffsetAtOrAfter(long timestamp)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (this[mid].Timestamp < timestamp)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo < _count ? this[lo].Offset : null;
    }

    private StoredRecord this[int index] => _ring[(_head + index) % _ring.Length];

    private void RemoveOldest()
    {
        Bytes -= SizeOf(_ring[_head]);
        _ring[_head] = null!;
        _head = (_head + 1) % _ring.Length;
        _count--;
        if (_count == 0)
        {
            _head = 0;
        }
    }

    private void Grow()
    {
        var capacity = Math.Min(Math.Max(InitialCapacity, _ring.Length * 2), Math.Max(maxRecords, 1));
        var grown = new StoredRecord[capacity];
        for (var i = 0; i < _count; i++)
        {
            grown[i] = this[i];
        }

        _ring = grown;
        _head = 0;
    }
}
