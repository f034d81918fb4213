#nullable enable
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Partitions;

/// <summary>
/// A sparse offset → append-time index (one entry every <see cref="Interval"/> offsets), so age retention can advance
/// the start of a partition whose old records are only in the journal. Append times never decrease along a
/// partition, so every record before an entry is at least as old as the entry.
/// </summary>
internal sealed class TimeIndex(long interval, int maxEntries)
{
    private readonly List<TimeIndexEntry> _entries = [];

    /// <summary>Offsets between entries (doubles whenever the index outgrows its bound).</summary>
    public long Interval { get; private set; } = Math.Max(1, interval);

    /// <summary>Entries held.</summary>
    public int Count => _entries.Count;

    /// <summary>Notes the append time of the record at <paramref name="offset"/>.</summary>
    public void OnAppend(long offset, long timestamp)
    {
        if (offset % Interval != 0)
        {
            return;
        }

        _entries.Add(new TimeIndexEntry(offset, timestamp));
        if (_entries.Count > maxEntries)
        {
            Interval *= 2;
            _entries.RemoveAll(e => e.Offset % Interval != 0);
        }
    }

    /// <summary>
    /// The highest offset below which every record was appended before <paramref name="cutoff"/>, as far as the
    /// index can tell, or null.
    /// </summary>
    public long? ExpiredBefore(long cutoff)
    {
        long? result = null;
        foreach (var entry in _entries)
        {
            if (entry.Timestamp >= cutoff)
            {
                break;
            }

            result = entry.Offset;
        }

        return result;
    }

    /// <summary>Forgets entries below <paramref name="offset"/>.</summary>
    public void TrimBelow(long offset) => _entries.RemoveAll(e => e.Offset < offset);

    /// <summary>The entries, oldest first.</summary>
    public TimeIndexEntry[] ToArray() => [.. _entries];

    /// <summary>Restores the index from a snapshot.</summary>
    public void Restore(long interval, IEnumerable<TimeIndexEntry> entries)
    {
        Interval = Math.Max(1, interval);
        _entries.Clear();
        _entries.AddRange(entries);
    }
}
