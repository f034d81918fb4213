#nullable enable
using System.IO.Hashing;
using System.Text;

namespace ActorGrid.Collections;

/// <summary>
/// A Bloom filter of strings in a fixed number of bytes, as a plain byte array so that it can sit in a persisted
/// snapshot: "surely never added" or "maybe added". Used where forgetting must stay safe — a key compaction purged,
/// a producer the partition expired — by treating "maybe" as "seen".
/// </summary>
public static class KeyFilter
{
    private const int Hashes = 7;

    /// <summary>A copy of <paramref name="filter"/> (or a new empty one of <paramref name="bytes"/>) with <paramref name="keys"/> added.</summary>
    public static byte[] Add(byte[]? filter, int bytes, IEnumerable<string> keys)
    {
        var result = filter is null ? new byte[bytes] : (byte[])filter.Clone();
        foreach (var key in keys)
        {
            var (h1, h2) = Hash(key);
            for (var i = 0; i < Hashes; i++)
            {
                var bit = Bit(h1, h2, i, result.Length);
                result[bit >> 3] |= (byte)(1 << (bit & 7));
            }
        }

        return result;
    }

    /// <summary>Whether <paramref name="key"/> may have been added (false: surely not).</summary>
    public static bool MayContain(byte[]? filter, string key)
    {
        if (filter is null || filter.Length == 0)
        {
            return false;
        }

        var (h1, h2) = Hash(key);
        for (var i = 0; i < Hashes; i++)
        {
            var bit = Bit(h1, h2, i, filter.Length);
            if ((filter[bit >> 3] & (1 << (bit & 7))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static (uint, uint) Hash(string key)
    {
        var hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key));
        return ((uint)hash, (uint)(hash >> 32) | 1);
    }

    private static int Bit(uint h1, uint h2, int i, int bytes) => (int)((h1 + (uint)i * h2) % (uint)(bytes * 8));
}
