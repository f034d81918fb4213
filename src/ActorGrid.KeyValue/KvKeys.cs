#nullable enable
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace ActorGrid.KeyValue;

/// <summary>Key rules and placement: which partition owns a key.</summary>
public static class KvKeys
{
    private const string EntityPrefix = "kv-";

    /// <summary>
    /// Why <paramref name="key"/> is not a valid key (1–1024 UTF-8 bytes, no control characters, well-formed
    /// UTF-16), or null when it is.
    /// </summary>
    public static string? Validate(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "the key must not be empty";
        }

        return ValidateText(key, "key", minBytes: 1);
    }

    /// <summary>Why <paramref name="value"/> cannot be a scan prefix or cursor, or null when it can.</summary>
    public static string? ValidateBound(string value, string name) => ValidateText(value, name, minBytes: 0);

    /// <summary>
    /// The partition (0..<paramref name="partitions"/>-1) that owns <paramref name="key"/>: XxHash3 of its UTF-8
    /// bytes, the same in every process. A key with a Redis Cluster hash tag — text between the first <c>{</c> and
    /// the first <c>}</c> after it, when not empty — is placed by its tag alone, so <c>{user42}:cart</c> and
    /// <c>{user42}:profile</c> share a partition (and can share a transaction). This holds for every front door.
    /// </summary>
    public static int PartitionOf(string key, int partitions)
    {
        var tagged = HashTag(key);
        var max = Encoding.UTF8.GetMaxByteCount(tagged.Length);
        var buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(tagged, buffer);
        return (int)(XxHash3.HashToUInt64(buffer[..length]) % (ulong)partitions);
    }

    /// <summary>The part of <paramref name="key"/> that places it: its hash tag when it has one, else the whole key.</summary>
    public static ReadOnlySpan<char> HashTag(string key)
    {
        var open = key.IndexOf('{', StringComparison.Ordinal);
        if (open >= 0)
        {
            var close = key.IndexOf('}', open + 1);
            if (close > open + 1)
            {
                return key.AsSpan(open + 1, close - open - 1);
            }
        }

        return key;
    }

    /// <summary>The sharded entity id of partition <paramref name="partition"/> (<c>kv-17</c>).</summary>
    public static string EntityId(int partition) => EntityPrefix + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>The entity id of the partition that owns <paramref name="key"/>.</summary>
    public static string EntityIdFor(string key, int partitions) => EntityId(PartitionOf(key, partitions));

    private static string? ValidateText(string value, string name, int minBytes)
    {
        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException)
        {
            return $"the {name} is not well-formed Unicode";
        }

        if (bytes < minBytes || bytes > KvProtocol.Settings.MaxKeyBytes)
        {
            return $"the {name} must be {minBytes}-{KvProtocol.Settings.MaxKeyBytes} UTF-8 bytes (got {bytes})";
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return $"the {name} must not contain control characters (found U+{(int)c:X4})";
            }
        }

        return null;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
