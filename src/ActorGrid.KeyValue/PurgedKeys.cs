#nullable enable
using System.IO.Hashing;
using System.Text;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue;

/// <summary>
/// The keys compaction purged from a partition, kept in a fixed, small form so that a key written again continues
/// its version count: <paramref name="VersionFloor"/> is the highest version any purged key had, and
/// <paramref name="Filter"/> a Bloom filter of the purged keys. A key the filter may hold is written again at
/// <c>VersionFloor + 1</c> — above any version it ever had, so versions only grow and a compare-and-set against an
/// old version can never succeed; a key it surely does not hold was never purged and starts at 1. A false positive
/// (about 1% at <see cref="FilterBytes"/> with 13,000 purged keys per partition, more beyond) only makes a fresh
/// key start above 1.
/// </summary>
/// <param name="VersionFloor">The highest version of any purged key (0: none purged).</param>
/// <param name="Filter">The Bloom filter, <see cref="FilterBytes"/> long, or null when nothing was purged.</param>
public sealed record PurgedKeys(long VersionFloor, byte[]? Filter)
{
    /// <summary>Size of the filter.</summary>
    public const int FilterBytes = 16 * 1024;

    private const int Hashes = 7;

    /// <summary>Nothing purged.</summary>
    public static readonly PurgedKeys None = new(0, null);

    /// <summary>Bytes held.</summary>
    public long Bytes => Filter?.Length ?? 0;

    /// <summary>The version <paramref name="key"/> had when purged, as far as is known: the floor, or 0 if never purged.</summary>
    public long LastVersionOf(string key)
    {
        if (Filter is null)
        {
            return 0;
        }

        var (h1, h2) = Hash(key);
        for (var i = 0; i < Hashes; i++)
        {
            var bit = Bit(h1, h2, i);
            if ((Filter[bit >> 3] & (1 << (bit & 7))) == 0)
            {
                return 0;
            }
        }

        return VersionFloor;
    }

    /// <summary>These, with <paramref name="entries"/> purged too.</summary>
    public PurgedKeys Add(IEnumerable<Entry> entries)
    {
        var filter = Filter is null ? new byte[FilterBytes] : (byte[])Filter.Clone();
        var floor = VersionFloor;
        foreach (var entry in entries)
        {
            floor = Math.Max(floor, entry.Version);
            var (h1, h2) = Hash(entry.Key);
            for (var i = 0; i < Hashes; i++)
            {
                var bit = Bit(h1, h2, i);
                filter[bit >> 3] |= (byte)(1 << (bit & 7));
            }
        }

        return new PurgedKeys(floor, filter);
    }

    private static (uint, uint) Hash(string key)
    {
        var hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key));
        return ((uint)hash, (uint)(hash >> 32) | 1);
    }

    private static int Bit(uint h1, uint h2, int i) => (int)((h1 + (uint)i * h2) % (FilterBytes * 8));
}
