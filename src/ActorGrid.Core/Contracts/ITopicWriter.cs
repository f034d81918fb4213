#nullable enable
namespace ActorGrid.Contracts;

/// <summary>
/// Producing to the broker role from other roles and embedding services without referencing it. The <c>broker</c>
/// role registers the implementation in DI.
/// </summary>
public interface ITopicWriter
{
    /// <summary>
    /// Appends one record (same key → same partition) and returns once it is durable. With a producer id and
    /// sequence, a retry of the same (producerId, sequence) returns the original position and appends nothing.
    /// </summary>
    Task<(int Partition, long Offset)> ProduceAsync(string topic, string? key, byte[] value, string? producerId = null, long? sequence = null, CancellationToken cancellationToken = default);
}
