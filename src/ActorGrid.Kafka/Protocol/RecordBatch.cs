#nullable enable
using System.Buffers.Binary;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Kafka.Protocol;

/// <summary>One record of a record batch: key and value bytes (either may be null), its timestamp and header count.</summary>
public sealed record KafkaRecord(byte[]? Key, byte[]? Value, long Timestamp, int Headers);

/// <summary>
/// A record batch (message format v2, KIP-98): the header a producer stamps (producer id, epoch, first sequence) and its
/// records, decompressed. Magic 0 and 1 (message sets of clients older than Kafka 0.11) are refused.
/// </summary>
public sealed record RecordBatch(
    long BaseOffset,
    short Attributes,
    long BaseTimestamp,
    long ProducerId,
    short ProducerEpoch,
    int BaseSequence,
    IReadOnlyList<KafkaRecord> Records)
{
    private const int HeaderBytes = 61;
    private const int CrcOffset = 17;
    private const int AttributesOffset = 21;

    /// <summary>The compression codec (attributes bits 0-2).</summary>
    public KafkaCompression Compression => (KafkaCompression)(Attributes & 0x07);

    /// <summary>Whether the batch belongs to a transaction (not supported).</summary>
    public bool IsTransactional => (Attributes & 0x10) != 0;

    /// <summary>Whether the batch is a control batch (transaction markers; not supported).</summary>
    public bool IsControl => (Attributes & 0x20) != 0;

    /// <summary>Every batch in <paramref name="records"/> (the <c>records</c> field of a partition in a Produce request).</summary>
    /// <exception cref="KafkaProtocolException">when a batch is truncated, has another magic or fails its CRC.</exception>
    public static List<RecordBatch> ReadAll(ReadOnlyMemory<byte> records)
    {
        var batches = new List<RecordBatch>();
        while (records.Length > 0)
        {
            if (records.Length < HeaderBytes)
            {
                throw new KafkaProtocolException($"record batch header needs {HeaderBytes} bytes, {records.Length} left");
            }

            var length = BinaryPrimitives.ReadInt32BigEndian(records.Span[8..]);
            if (length < HeaderBytes - 12 || length > records.Length - 12)
            {
                throw new KafkaProtocolException($"record batch length {length} does not fit in {records.Length - 12} bytes");
            }

            batches.Add(Read(records[..(12 + length)]));
            records = records[(12 + length)..];
        }

        return batches;
    }

    private static RecordBatch Read(ReadOnlyMemory<byte> memory)
    {
        var batch = memory.Span;
        var magic = (sbyte)batch[16];
        if (magic != 2)
        {
            throw new KafkaProtocolException($"record batch magic {magic}: only message format v2 (magic 2) is supported");
        }

        var crc = BinaryPrimitives.ReadUInt32BigEndian(batch[CrcOffset..]);
        var actual = Crc32C.Compute(batch[AttributesOffset..]);
        if (crc != actual)
        {
            throw new KafkaProtocolException($"record batch CRC {crc:x8} does not match its content ({actual:x8})");
        }

        var attributes = BinaryPrimitives.ReadInt16BigEndian(batch[21..]);
        var baseTimestamp = BinaryPrimitives.ReadInt64BigEndian(batch[27..]);
        var producerId = BinaryPrimitives.ReadInt64BigEndian(batch[43..]);
        var producerEpoch = BinaryPrimitives.ReadInt16BigEndian(batch[51..]);
        var baseSequence = BinaryPrimitives.ReadInt32BigEndian(batch[53..]);
        var count = BinaryPrimitives.ReadInt32BigEndian(batch[57..]);
        if (count < 0 || count > batch.Length)
        {
            throw new KafkaProtocolException($"record batch claims {count} records in {batch.Length} bytes");
        }

        // Uncompressed records are read where they are (no copy of the batch); compressed ones once inflated.
        var codec = (KafkaCompression)(attributes & 0x07);
        var reader = new KafkaReader(codec == KafkaCompression.None ? memory[HeaderBytes..] : KafkaCompressionCodec.Decompress(codec, batch[HeaderBytes..]));
        var records = new List<KafkaRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var length = reader.Varint();
            var end = reader.Position + length;
            if (length < 0 || length > reader.Remaining)
            {
                throw new KafkaProtocolException($"record {i} length {length} exceeds the batch");
            }

            reader.Int8(); // record attributes: unused
            var timestampDelta = reader.Varlong();
            reader.Varint(); // offset delta: offsets are assigned by the partition
            var key = VarBytes(reader);
            var value = VarBytes(reader);
            var headers = reader.Varint();
            for (var h = 0; h < headers; h++)
            {
                VarBytes(reader);
                VarBytes(reader);
            }

            if (reader.Position != end)
            {
                throw new KafkaProtocolException($"record {i} is {length} bytes long but its fields end elsewhere");
            }

            records.Add(new KafkaRecord(key, value, baseTimestamp + timestampDelta, headers));
        }

        return new RecordBatch(BinaryPrimitives.ReadInt64BigEndian(batch), attributes, baseTimestamp, producerId, producerEpoch, baseSequence, records);
    }

    /// <summary>
    /// Writes <paramref name="records"/> (consecutive offsets of one partition) as one uncompressed batch with
    /// create-time timestamps (the partition's append times) and no producer.
    /// </summary>
    public static void Write(KafkaWriter writer, IReadOnlyList<StoredRecord> records, Func<string?, byte[]?> keyBytes)
    {
        var first = records[0];
        var start = writer.Length;
        writer.Int64(first.Offset);
        var lengthAt = writer.ReserveInt32();
        writer.Int32(-1); // partition leader epoch
        writer.Int8(2);
        var crcAt = writer.ReserveInt32();
        var attributesAt = writer.Length;
        writer.Int16(0);
        writer.Int32((int)(records[^1].Offset - first.Offset));
        writer.Int64(first.Timestamp);
        var maxTimestamp = first.Timestamp;
        foreach (var r in records)
        {
            maxTimestamp = Math.Max(maxTimestamp, r.Timestamp);
        }

        writer.Int64(maxTimestamp);
        writer.Int64(-1).Int16(-1).Int32(-1);
        writer.Int32(records.Count);
        var scratch = new KafkaWriter(128);
        foreach (var r in records)
        {
            var key = keyBytes(r.Key);
            var bodyLength = 1 + VarlongSize(r.Timestamp - first.Timestamp) + VarintSize((int)(r.Offset - first.Offset))
                             + (key is null ? 1 : VarintSize(key.Length) + key.Length) + VarintSize(r.Value.Length) + r.Value.Length + 1;
            writer.Varint(bodyLength);
            writer.Int8(0);
            writer.Varlong(r.Timestamp - first.Timestamp);
            writer.Varint((int)(r.Offset - first.Offset));
            if (key is null)
            {
                writer.Varint(-1);
            }
            else
            {
                writer.Varint(key.Length).Raw(key);
            }

            writer.Varint(r.Value.Length).Raw(r.Value);
            writer.Varint(0);
        }

        writer.PatchInt32(lengthAt, writer.Length - start - 12);
        writer.PatchUInt32(crcAt, Crc32C.Compute(writer.WrittenSpanAt(attributesAt, writer.Length - attributesAt)));
    }

    /// <summary>Writes a batch as a producer would (for tests and benchmarks): records at offsets 0.., one codec.</summary>
    public static byte[] Encode(IReadOnlyList<KafkaRecord> records, KafkaCompression compression = KafkaCompression.None,
        long producerId = -1, short producerEpoch = -1, int baseSequence = -1)
    {
        var body = new KafkaWriter();
        var baseTimestamp = records.Count > 0 ? records[0].Timestamp : 0;
        for (var i = 0; i < records.Count; i++)
        {
            var record = new KafkaWriter();
            record.Int8(0).Varlong(records[i].Timestamp - baseTimestamp).Varint(i);
            WriteVarBytes(record, records[i].Key);
            WriteVarBytes(record, records[i].Value);
            record.Varint(0);
            body.Varint(record.Length).Raw(record.Written.Span);
        }

        var compressed = KafkaCompressionCodec.Compress(compression, body.Written.Span);
        var writer = new KafkaWriter();
        writer.Int64(0);
        var lengthAt = writer.ReserveInt32();
        writer.Int32(-1).Int8(2);
        var crcAt = writer.ReserveInt32();
        writer.Int16((short)compression).Int32(Math.Max(0, records.Count - 1)).Int64(baseTimestamp)
            .Int64(records.Count > 0 ? records.Max(r => r.Timestamp) : 0)
            .Int64(producerId).Int16(producerEpoch).Int32(baseSequence).Int32(records.Count).Raw(compressed);
        writer.PatchInt32(lengthAt, writer.Length - 12);
        writer.PatchUInt32(crcAt, Crc32C.Compute(writer.Written.Span[AttributesOffset..]));
        return writer.ToArray();
    }

    private static void WriteVarBytes(KafkaWriter writer, byte[]? value)
    {
        if (value is null)
        {
            writer.Varint(-1);
        }
        else
        {
            writer.Varint(value.Length).Raw(value);
        }
    }

    private static byte[]? VarBytes(KafkaReader reader)
    {
        var length = reader.Varint();
        if (length < 0)
        {
            return null;
        }

        if (length > reader.Remaining)
        {
            throw new KafkaProtocolException($"field of {length} bytes with {reader.Remaining} left in the record");
        }

        return reader.NullableBytesRaw(length);
    }

    private static int VarintSize(int value) => UnsignedSize((ulong)(uint)((value << 1) ^ (value >> 31)));

    private static int VarlongSize(long value) => UnsignedSize((ulong)((value << 1) ^ (value >> 63)));

    private static int UnsignedSize(ulong raw)
    {
        var size = 1;
        while (raw >= 0x80)
        {
            raw >>= 7;
            size++;
        }

        return size;
    }
}
