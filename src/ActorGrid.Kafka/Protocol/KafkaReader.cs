#nullable enable
using System.Buffers.Binary;
using System.Text;

namespace ActorGrid.Kafka.Protocol;

/// <summary>A malformed Kafka request: the connection answers what it can and closes.</summary>
public sealed class KafkaProtocolException(string message) : Exception(message);

/// <summary>
/// Reads Kafka's primitive types (big-endian integers, zig-zag varints, classic and compact strings, bytes and arrays,
/// tagged fields) from one request body. Every length is checked against what is left, so a hostile length cannot
/// allocate more than the frame holds.
/// </summary>
public sealed class KafkaReader(ReadOnlyMemory<byte> buffer)
{
    private readonly ReadOnlyMemory<byte> _buffer = buffer;

    /// <summary>Position of the next byte to read.</summary>
    public int Position { get; private set; }

    /// <summary>Bytes left.</summary>
    public int Remaining => _buffer.Length - Position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new KafkaProtocolException($"needs {count} bytes at {Position}, {Remaining} left");
        }

        var span = _buffer.Span.Slice(Position, count);
        Position += count;
        return span;
    }

    /// <summary>int8.</summary>
    public sbyte Int8() => (sbyte)Take(1)[0];

    /// <summary>boolean.</summary>
    public bool Bool() => Take(1)[0] != 0;

    /// <summary>int16.</summary>
    public short Int16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    /// <summary>int32.</summary>
    public int Int32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    /// <summary>uint32.</summary>
    public uint UInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    /// <summary>int64.</summary>
    public long Int64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    /// <summary>uuid (16 bytes, kept raw).</summary>
    public byte[] Uuid() => Take(16).ToArray();

    /// <summary>Unsigned varint (up to 32 bits).</summary>
    public uint UnsignedVarint()
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Take(1)[0];
            value |= (uint)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new KafkaProtocolException("varint longer than 5 bytes");
    }

    /// <summary>Zig-zag varint (int32).</summary>
    public int Varint()
    {
        var raw = UnsignedVarint();
        return (int)(raw >> 1) ^ -(int)(raw & 1);
    }

    /// <summary>Zig-zag varlong (int64).</summary>
    public long Varlong()
    {
        ulong raw = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = Take(1)[0];
            raw |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return (long)(raw >> 1) ^ -(long)(raw & 1);
            }
        }

        throw new KafkaProtocolException("varlong longer than 10 bytes");
    }

    /// <summary>A string: compact (varint length + 1) in flexible versions, else int16 length; null when the length says so.</summary>
    public string? NullableString(bool flexible)
    {
        var length = flexible ? (int)UnsignedVarint() - 1 : Int16();
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>A non-null string.</summary>
    public string String(bool flexible) => NullableString(flexible) ?? throw new KafkaProtocolException("null string where one is required");

    /// <summary>Bytes: compact in flexible versions, else int32 length; null when the length says so.</summary>
    public byte[]? NullableBytes(bool flexible)
    {
        var length = flexible ? (int)UnsignedVarint() - 1 : Int32();
        return length < 0 ? null : Take(length).ToArray();
    }

    /// <summary>Bytes as a slice of the request (no copy); null when the length says so.</summary>
    public ReadOnlyMemory<byte>? NullableBytesSlice(bool flexible)
    {
        var length = flexible ? (int)UnsignedVarint() - 1 : Int32();
        if (length < 0)
        {
            return null;
        }

        var start = Position;
        Take(length);
        return _buffer.Slice(start, length);
    }

    /// <summary><paramref name="length"/> raw bytes, copied.</summary>
    public byte[] NullableBytesRaw(int length) => Take(length).ToArray();

    /// <summary>An array's element count (-1: null), compact in flexible versions. Each element takes at least one byte.</summary>
    public int ArrayLength(bool flexible)
    {
        var count = flexible ? (int)UnsignedVarint() - 1 : Int32();
        if (count > Remaining)
        {
            throw new KafkaProtocolException($"array of {count} elements in {Remaining} bytes");
        }

        return count;
    }

    /// <summary>An array read element by element (null arrays read as empty).</summary>
    public List<T> Array<T>(bool flexible, Func<KafkaReader, T> element)
    {
        var count = ArrayLength(flexible);
        var list = new List<T>(Math.Max(0, count));
        for (var i = 0; i < count; i++)
        {
            list.Add(element(this));
        }

        return list;
    }

    /// <summary>A nullable array (null when its length is -1).</summary>
    public List<T>? NullableArray<T>(bool flexible, Func<KafkaReader, T> element) =>
        PeekNull(flexible) ? SkipNullArray<T>(flexible) : Array(flexible, element);

    /// <summary>Skips the tagged fields that end a structure in flexible versions (none are understood here).</summary>
    public void TaggedFields(bool flexible)
    {
        if (!flexible)
        {
            return;
        }

        var count = UnsignedVarint();
        for (var i = 0; i < count; i++)
        {
            UnsignedVarint();
            Take((int)UnsignedVarint());
        }
    }

    private bool PeekNull(bool flexible) =>
        flexible ? Remaining > 0 && _buffer.Span[Position] == 0 : Remaining >= 4 && BinaryPrimitives.ReadInt32BigEndian(_buffer.Span[Position..]) < 0;

    private List<T>? SkipNullArray<T>(bool flexible)
    {
        ArrayLength(flexible);
        return null;
    }
}
