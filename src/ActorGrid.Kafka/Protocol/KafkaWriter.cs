#nullable enable
using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ActorGrid.Kafka.Protocol;

/// <summary>Writes Kafka's primitive types into a growing buffer; lengths written before their content are patched in place.</summary>
public sealed class KafkaWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    /// <summary>A writer with room for <paramref name="capacity"/> bytes to start with.</summary>
    public KafkaWriter(int capacity = 256) => _buffer = new ArrayBufferWriter<byte>(capacity);

    /// <summary>Bytes written so far.</summary>
    public int Length => _buffer.WrittenCount;

    /// <summary>What was written.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    /// <summary>A copy of what was written.</summary>
    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    private Span<byte> Reserve(int count)
    {
        var span = _buffer.GetSpan(count)[..count];
        _buffer.Advance(count);
        return span;
    }

    /// <summary>A mutable view of bytes already written (to patch a length or a CRC).</summary>
    public Span<byte> WrittenSpanAt(int position, int length) =>
        System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(_buffer.WrittenSpan[position..]), length);

    /// <summary>int8.</summary>
    public KafkaWriter Int8(sbyte value)
    {
        Reserve(1)[0] = (byte)value;
        return this;
    }

    /// <summary>boolean.</summary>
    public KafkaWriter Bool(bool value) => Int8(value ? (sbyte)1 : (sbyte)0);

    /// <summary>int16.</summary>
    public KafkaWriter Int16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), value);
        return this;
    }

    /// <summary>int32.</summary>
    public KafkaWriter Int32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);
        return this;
    }

    /// <summary>uint32.</summary>
    public KafkaWriter UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);
        return this;
    }

    /// <summary>int64.</summary>
    public KafkaWriter Int64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(Reserve(8), value);
        return this;
    }

    /// <summary>Unsigned varint.</summary>
    public KafkaWriter UnsignedVarint(uint value)
    {
        while (value >= 0x80)
        {
            Reserve(1)[0] = (byte)(value | 0x80);
            value >>= 7;
        }

        Reserve(1)[0] = (byte)value;
        return this;
    }

    /// <summary>Zig-zag varint (int32).</summary>
    public KafkaWriter Varint(int value) => UnsignedVarint((uint)((value << 1) ^ (value >> 31)));

    /// <summary>Zig-zag varlong (int64).</summary>
    public KafkaWriter Varlong(long value)
    {
        var raw = (ulong)((value << 1) ^ (value >> 63));
        while (raw >= 0x80)
        {
            Reserve(1)[0] = (byte)(raw | 0x80);
            raw >>= 7;
        }

        Reserve(1)[0] = (byte)raw;
        return this;
    }

    /// <summary>A nullable string, compact in flexible versions.</summary>
    public KafkaWriter String(string? value, bool flexible)
    {
        if (value is null)
        {
            return flexible ? UnsignedVarint(0) : Int16(-1);
        }

        var count = Encoding.UTF8.GetByteCount(value);
        if (flexible)
        {
            UnsignedVarint((uint)count + 1);
        }
        else
        {
            Int16(checked((short)count));
        }

        Encoding.UTF8.GetBytes(value, Reserve(count));
        return this;
    }

    /// <summary>Nullable bytes, compact in flexible versions.</summary>
    public KafkaWriter Bytes(ReadOnlySpan<byte> value, bool flexible, bool isNull = false)
    {
        if (isNull)
        {
            return flexible ? UnsignedVarint(0) : Int32(-1);
        }

        if (flexible)
        {
            UnsignedVarint((uint)value.Length + 1);
        }
        else
        {
            Int32(value.Length);
        }

        return Raw(value);
    }

    /// <summary>Bytes without a length.</summary>
    public KafkaWriter Raw(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Reserve(value.Length));
        return this;
    }

    /// <summary>An array's element count (-1: null), compact in flexible versions.</summary>
    public KafkaWriter ArrayLength(int count, bool flexible) => flexible ? UnsignedVarint((uint)(count + 1)) : Int32(count);

    /// <summary>An array, element by element.</summary>
    public KafkaWriter Array<T>(IReadOnlyCollection<T> items, bool flexible, Action<KafkaWriter, T> element)
    {
        ArrayLength(items.Count, flexible);
        foreach (var item in items)
        {
            element(this, item);
        }

        return this;
    }

    /// <summary>An empty set of tagged fields (flexible versions only).</summary>
    public KafkaWriter TaggedFields(bool flexible) => flexible ? UnsignedVarint(0) : this;

    /// <summary>Reserves an int32 to patch later with <see cref="PatchInt32"/>; returns its position.</summary>
    public int ReserveInt32()
    {
        var position = Length;
        Int32(0);
        return position;
    }

    /// <summary>Writes <paramref name="value"/> at <paramref name="position"/>.</summary>
    public void PatchInt32(int position, int value) => BinaryPrimitives.WriteInt32BigEndian(WrittenSpanAt(position, 4), value);

    /// <summary>Writes <paramref name="value"/> at <paramref name="position"/>.</summary>
    public void PatchUInt32(int position, uint value) => BinaryPrimitives.WriteUInt32BigEndian(WrittenSpanAt(position, 4), value);
}
