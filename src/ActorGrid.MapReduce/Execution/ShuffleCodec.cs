#nullable enable
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace ActorGrid.MapReduce.Execution;

/// <summary>Receives one pair of a shuffle chunk; the key's characters are valid only during the call.</summary>
internal delegate void ShufflePairAction<in TValue>(ReadOnlySpan<char> key, TValue value);

/// <summary>
/// The shuffle format. A chunk is a format byte followed by pairs: the key as a varint length and UTF-8 bytes, then
/// the value — <c>long</c> and <c>int</c> as zig-zag varints, <c>decimal</c> as its 16 bytes, <c>double</c> as 8,
/// <c>string</c> as a varint length and UTF-8, anything else as a varint length and System.Text.Json UTF-8.
/// Compact and cheap for the counts most jobs shuffle; every type works.
/// </summary>
internal static class ShuffleCodec<TValue>
{
    private const byte Format = 1;
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General);

    /// <summary>
    /// Serializes <paramref name="entries"/> into chunks of about <paramref name="chunkBytes"/> each (a chunk ends
    /// after the pair that reaches the size). One pair larger than twice the chunk size is refused.
    /// </summary>
    public static byte[][] Encode(IReadOnlyList<KeyValuePair<string, TValue>> entries, int chunkBytes)
    {
        if (entries.Count == 0)
        {
            return [];
        }

        var chunks = new List<byte[]>();
        var buffer = new ArrayBufferWriter<byte>(Math.Min(chunkBytes + 4096, 256 * 1024));
        buffer.GetSpan(1)[0] = Format;
        buffer.Advance(1);
        for (var i = 0; i < entries.Count; i++)
        {
            var before = buffer.WrittenCount;
            WriteString(buffer, entries[i].Key);
            WriteValue(buffer, entries[i].Value);
            if (buffer.WrittenCount - before > 2L * chunkBytes)
            {
                var key = entries[i].Key;
                throw new InvalidOperationException(
                    $"the map output for key '{(key.Length > 100 ? key[..100] + "…" : key)}' is {buffer.WrittenCount - before} bytes; one key's value may be at most {2L * chunkBytes} bytes");
            }

            if (buffer.WrittenCount >= chunkBytes || i == entries.Count - 1)
            {
                chunks.Add(buffer.WrittenSpan.ToArray());
                buffer.ResetWrittenCount();
                buffer.GetSpan(1)[0] = Format;
                buffer.Advance(1);
            }
        }

        return [.. chunks];
    }

    /// <summary>Calls <paramref name="pair"/> for every pair of a chunk.</summary>
    public static void Decode(ReadOnlySpan<byte> chunk, ShufflePairAction<TValue> pair)
    {
        if (chunk.IsEmpty || chunk[0] != Format)
        {
            throw new InvalidDataException("not a shuffle chunk of a known format");
        }

        var rest = chunk[1..];
        char[]? rented = null;
        Span<char> keyBuffer = stackalloc char[256];
        try
        {
            while (!rest.IsEmpty)
            {
                var keyBytes = ReadSlice(ref rest);
                var maxChars = Encoding.UTF8.GetMaxCharCount(keyBytes.Length);
                if (maxChars > keyBuffer.Length)
                {
                    if (rented is not null)
                    {
                        ArrayPool<char>.Shared.Return(rented);
                    }

                    rented = ArrayPool<char>.Shared.Rent(maxChars);
                    keyBuffer = rented;
                }

                var keyLength = Encoding.UTF8.GetChars(keyBytes, keyBuffer);
                pair(keyBuffer[..keyLength], ReadValue(ref rest));
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private static void WriteValue(ArrayBufferWriter<byte> buffer, TValue value)
    {
        if (typeof(TValue) == typeof(long))
        {
            WriteVarint(buffer, ZigZag(Unsafe.As<TValue, long>(ref value)));
        }
        else if (typeof(TValue) == typeof(int))
        {
            WriteVarint(buffer, ZigZag(Unsafe.As<TValue, int>(ref value)));
        }
        else if (typeof(TValue) == typeof(decimal))
        {
            Span<int> bits = stackalloc int[4];
            decimal.GetBits(Unsafe.As<TValue, decimal>(ref value), bits);
            var span = buffer.GetSpan(16);
            for (var i = 0; i < 4; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], bits[i]);
            }

            buffer.Advance(16);
        }
        else if (typeof(TValue) == typeof(double))
        {
            BinaryPrimitives.WriteDoubleLittleEndian(buffer.GetSpan(8), Unsafe.As<TValue, double>(ref value));
            buffer.Advance(8);
        }
        else if (typeof(TValue) == typeof(string))
        {
            WriteString(buffer, (string)(object)value!);
        }
        else
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(value, Options);
            WriteVarint(buffer, (ulong)json.Length);
            buffer.Write(json);
        }
    }

    private static TValue ReadValue(ref ReadOnlySpan<byte> rest)
    {
        if (typeof(TValue) == typeof(long))
        {
            var value = UnZigZag(ReadVarint(ref rest));
            return Unsafe.As<long, TValue>(ref value);
        }

        if (typeof(TValue) == typeof(int))
        {
            var value = (int)UnZigZag(ReadVarint(ref rest));
            return Unsafe.As<int, TValue>(ref value);
        }

        if (typeof(TValue) == typeof(decimal))
        {
            Span<int> bits = stackalloc int[4];
            for (var i = 0; i < 4; i++)
            {
                bits[i] = BinaryPrimitives.ReadInt32LittleEndian(rest[(i * 4)..]);
            }

            rest = rest[16..];
            var value = new decimal(bits);
            return Unsafe.As<decimal, TValue>(ref value);
        }

        if (typeof(TValue) == typeof(double))
        {
            var value = BinaryPrimitives.ReadDoubleLittleEndian(rest);
            rest = rest[8..];
            return Unsafe.As<double, TValue>(ref value);
        }

        if (typeof(TValue) == typeof(string))
        {
            return (TValue)(object)Encoding.UTF8.GetString(ReadSlice(ref rest));
        }

        return JsonSerializer.Deserialize<TValue>(ReadSlice(ref rest), Options)!;
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        WriteVarint(buffer, (ulong)length);
        Encoding.UTF8.GetBytes(text, buffer.GetSpan(length));
        buffer.Advance(length);
    }

    private static ReadOnlySpan<byte> ReadSlice(ref ReadOnlySpan<byte> rest)
    {
        var length = checked((int)ReadVarint(ref rest));
        var slice = rest[..length];
        rest = rest[length..];
        return slice;
    }

    private static void WriteVarint(ArrayBufferWriter<byte> buffer, ulong value)
    {
        var span = buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        buffer.Advance(i);
    }

    private static ulong ReadVarint(ref ReadOnlySpan<byte> rest)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = rest[0];
            rest = rest[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("malformed varint in a shuffle chunk");
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);
}
