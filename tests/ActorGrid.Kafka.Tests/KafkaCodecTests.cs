using System.Text;
using ActorGrid.Kafka.Protocol;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Kafka.Tests;

public sealed class KafkaCodecTests
{
    [Fact]
    public void Crc32c_matches_the_standard_check_value_and_every_split_of_the_input()
    {
        // RFC 3720 / the CRC catalogue: CRC-32C of "123456789" is E3069283.
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
        var zeros = new byte[32];
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(zeros)); // RFC 3720 B.4: 32 bytes of zeros
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    [InlineData(63)]
    [InlineData(-64)]
    [InlineData(300)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void Varints_and_varlongs_round_trip(int value)
    {
        var w = new KafkaWriter().Varint(value).Varlong(value * 3L).Varlong(long.MinValue + value).UnsignedVarint((uint)value);
        var r = new KafkaReader(w.ToArray());
        Assert.Equal(value, r.Varint());
        Assert.Equal(value * 3L, r.Varlong());
        Assert.Equal(long.MinValue + value, r.Varlong());
        Assert.Equal((uint)value, r.UnsignedVarint());
        Assert.Equal(0, r.Remaining);
    }

    [Fact]
    public void Zigzag_encodings_are_the_ones_of_the_protocol_guide()
    {
        Assert.Equal([0x01], new KafkaWriter().Varint(-1).ToArray());
        Assert.Equal([0x02], new KafkaWriter().Varint(1).ToArray());
        Assert.Equal([0xAC, 0x02], new KafkaWriter().UnsignedVarint(300).ToArray());
    }

    [Fact]
    public void Compact_and_classic_strings_bytes_and_arrays_round_trip_with_nulls()
    {
        foreach (var flexible in new[] { false, true })
        {
            var w = new KafkaWriter().String("héllo", flexible).String(null, flexible).Bytes([1, 2, 3], flexible).Bytes([], flexible, isNull: true)
                .Array(new[] { 7, 8 }, flexible, (w, i) => w.Int32(i)).ArrayLength(-1, flexible).TaggedFields(flexible);
            var r = new KafkaReader(w.ToArray());
            Assert.Equal("héllo", r.String(flexible));
            Assert.Null(r.NullableString(flexible));
            Assert.Equal([1, 2, 3], r.NullableBytes(flexible));
            Assert.Null(r.NullableBytes(flexible));
            Assert.Equal([7, 8], r.Array(flexible, x => x.Int32()));
            Assert.Null(r.NullableArray(flexible, x => x.Int32()));
            r.TaggedFields(flexible);
            Assert.Equal(0, r.Remaining);
        }
    }

    [Fact]
    public void A_length_beyond_the_frame_is_refused_without_allocating_it()
    {
        var r = new KafkaReader(new KafkaWriter().Int32(int.MaxValue).ToArray());
        Assert.Throws<KafkaProtocolException>(() => r.NullableBytes(false));
        var array = new KafkaReader(new KafkaWriter().Int32(1_000_000).Int32(1).ToArray());
        Assert.Throws<KafkaProtocolException>(() => array.Array(false, x => x.Int32()));
    }

    [Theory]
    [InlineData(KafkaCompression.None)]
    [InlineData(KafkaCompression.Gzip)]
    [InlineData(KafkaCompression.Snappy)]
    [InlineData(KafkaCompression.Lz4)]
    [InlineData(KafkaCompression.Zstd)]
    public void A_record_batch_round_trips_through_each_compression(KafkaCompression codec)
    {
        var records = Enumerable.Range(0, 50).Select(i => new KafkaRecord(i % 5 == 0 ? null : Encoding.UTF8.GetBytes($"k{i}"),
            Encoding.UTF8.GetBytes(new string('x', i) + i), 1_700_000_000_000 + i, 0)).ToList();
        var bytes = RecordBatch.Encode(records, codec, producerId: 42, producerEpoch: 3, baseSequence: 7);
        var batch = Assert.Single(RecordBatch.ReadAll(bytes));
        Assert.Equal(codec, batch.Compression);
        Assert.Equal((42L, (short)3, 7), (batch.ProducerId, batch.ProducerEpoch, batch.BaseSequence));
        Assert.Equal(records.Select(r => (r.Key is null ? null : Encoding.UTF8.GetString(r.Key), Encoding.UTF8.GetString(r.Value!), r.Timestamp)),
            batch.Records.Select(r => (r.Key is null ? null : Encoding.UTF8.GetString(r.Key), Encoding.UTF8.GetString(r.Value!), r.Timestamp)));
    }

    [Fact]
    public void A_batch_with_a_flipped_bit_fails_its_crc()
    {
        var bytes = RecordBatch.Encode([new KafkaRecord(null, "v"u8.ToArray(), 1, 0)]);
        bytes[^1] ^= 0x01;
        Assert.Contains("CRC", Assert.Throws<KafkaProtocolException>(() => RecordBatch.ReadAll(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stored_records_are_written_as_a_batch_a_reader_decodes_with_their_offsets_and_timestamps()
    {
        StoredRecord[] stored = [new(10, "a", "one"u8.ToArray(), 1000), new(11, null, "two"u8.ToArray(), 1005), new(12, "c", [], 1003)];
        var w = new KafkaWriter();
        RecordBatch.Write(w, stored, k => k is null ? null : Encoding.UTF8.GetBytes(k));
        var batch = Assert.Single(RecordBatch.ReadAll(w.ToArray()));
        Assert.Equal(10, batch.BaseOffset);
        Assert.Equal(["a", null, "c"], batch.Records.Select(r => r.Key is null ? null : Encoding.UTF8.GetString(r.Key)));
        Assert.Equal([1000L, 1005, 1003], batch.Records.Select(r => r.Timestamp));
        Assert.Equal("two", Encoding.UTF8.GetString(batch.Records[1].Value!));
    }
}
