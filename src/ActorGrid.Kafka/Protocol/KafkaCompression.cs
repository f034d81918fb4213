#nullable enable
using System.IO.Compression;
using K4os.Compression.LZ4.Streams;

namespace ActorGrid.Kafka.Protocol;

/// <summary>Kafka's compression codecs (record batch attributes bits 0-2).</summary>
public enum KafkaCompression
{
    /// <summary>Uncompressed.</summary>
    None = 0,

    /// <summary>gzip.</summary>
    Gzip = 1,

    /// <summary>Snappy (raw, or in the xerial framing of the Java client).</summary>
    Snappy = 2,

    /// <summary>LZ4 frame format.</summary>
    Lz4 = 3,

    /// <summary>Zstandard.</summary>
    Zstd = 4,
}

/// <summary>Compresses and decompresses the records section of a batch.</summary>
public static class KafkaCompressionCodec
{
    private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

    /// <summary>The records section of a batch compressed with <paramref name="codec"/>, decompressed.</summary>
    public static byte[] Decompress(KafkaCompression codec, ReadOnlySpan<byte> data)
    {
        try
        {
            return codec switch
            {
                KafkaCompression.None => data.ToArray(),
                KafkaCompression.Gzip => Inflate(new GZipStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress)),
                KafkaCompression.Snappy => Unsnappy(data),
                KafkaCompression.Lz4 => Inflate(LZ4Stream.Decode(new MemoryStream(data.ToArray()))),
                KafkaCompression.Zstd => Inflate(new ZstdSharp.DecompressionStream(new MemoryStream(data.ToArray()))),
                _ => throw new KafkaProtocolException($"unknown compression codec {(int)codec}"),
            };
        }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException or ArgumentException or ZstdSharp.ZstdException)
        {
            throw new KafkaProtocolException($"{codec} data does not decompress: {e.Message}");
        }
    }

    /// <summary><paramref name="data"/> compressed with <paramref name="codec"/> (as a producer would).</summary>
    public static byte[] Compress(KafkaCompression codec, ReadOnlySpan<byte> data)
    {
        switch (codec)
        {
            case KafkaCompression.None:
                return data.ToArray();
            case KafkaCompression.Snappy:
                return Snappier.Snappy.CompressToArray(data);
            case KafkaCompression.Zstd:
            {
                using var compressor = new ZstdSharp.Compressor();
                return compressor.Wrap(data).ToArray();
            }
        }

        var output = new MemoryStream();
        using (Stream stream = codec == KafkaCompression.Gzip
                   ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)
                   : LZ4Stream.Encode(output, leaveOpen: true))
        {
            stream.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Inflate(Stream stream)
    {
        using (stream)
        {
            var output = new MemoryStream();
            stream.CopyTo(output);
            return output.ToArray();
        }
    }

    private static byte[] Unsnappy(ReadOnlySpan<byte> data)
    {
        if (!data.StartsWith(XerialMagic))
        {
            return Snappier.Snappy.DecompressToArray(data);
        }

        // Xerial framing: magic, version, compatible version, then blocks of (int32 length, raw snappy block).
        var output = new MemoryStream();
        var reader = new KafkaReader(data[16..].ToArray());
        while (reader.Remaining > 0)
        {
            var length = reader.Int32();
            output.Write(Snappier.Snappy.DecompressToArray(reader.NullableBytesRaw(length)));
        }

        return output.ToArray();
    }
}
