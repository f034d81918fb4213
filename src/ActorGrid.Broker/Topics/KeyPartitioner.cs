#nullable enable
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace ActorGrid.Broker.Topics;

/// <summary>
/// Chooses a record's partition with a hash that is the same in every process and every version (xxHash32 of the
/// UTF-8 key), so the same key always lands in the same partition.
/// </summary>
public static class KeyPartitioner
{
    /// <summary>The partition of <paramref name="key"/> among <paramref name="partitions"/>.</summary>
    public static int ForKey(string key, int partitions) =>
        (int)(XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(key)) % (uint)partitions);

    /// <summary>
    /// The partition of an unkeyed record sent idempotently: a function of (producer, sequence), so a retried request
    /// sends each record to the partition that already deduplicates it, while records still spread evenly.
    /// </summary>
    public static int ForProducerSequence(string producerId, long sequence, int partitions)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(producerId) + sizeof(long)];
        var written = Encoding.UTF8.GetBytes(producerId, bytes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(written), sequence);
        return (int)(XxHash32.HashToUInt32(bytes) % (uint)partitions);
    }
}
