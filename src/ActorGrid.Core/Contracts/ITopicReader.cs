#nullable enable
namespace ActorGrid.Contracts;

/// <summary>
/// What other roles (MapReduce) and embedding services may read from the broker role without referencing it.
/// The <c>broker</c> role registers the implementation in DI; it is absent when the grid has no broker role.
/// </summary>
public interface ITopicReader
{
    /// <summary>The number of partitions of <paramref name="topic"/>, or null when the topic does not exist.</summary>
    Task<int?> GetPartitionCountAsync(string topic, CancellationToken cancellationToken = default);

    /// <summary>The offsets currently readable in one partition: [start, end).</summary>
    Task<(long Start, long End)> GetOffsetsAsync(string topic, int partition, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="max"/> records of one partition from <paramref name="offset"/>.</summary>
    Task<IReadOnlyList<TopicRecord>> ReadAsync(string topic, int partition, long offset, int max, CancellationToken cancellationToken = default);
}

/// <summary>A record read from a topic partition.</summary>
public sealed record TopicRecord(long Offset, string? Key, byte[] Value, DateTimeOffset Timestamp);
