#nullable enable
using ActorGrid.Contracts;

namespace ActorGrid.Broker.Gateway;

/// <summary>The broker's side of <see cref="ITopicReader"/>: how other roles (MapReduce) read topics without referencing the broker.</summary>
internal sealed class BrokerTopicReader(BrokerGateway gateway) : ITopicReader
{
    /// <inheritdoc />
    public async Task<int?> GetPartitionCountAsync(string topic, CancellationToken cancellationToken = default) =>
        (await gateway.FindTopicAsync(topic, cancellationToken))?.Partitions;

    /// <inheritdoc />
    public async Task<(long Start, long End)> GetOffsetsAsync(string topic, int partition, CancellationToken cancellationToken = default)
    {
        var info = await gateway.GetPartitionInfoAsync(topic, partition, cancellationToken);
        return (info.StartOffset, info.EndOffset);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TopicRecord>> ReadAsync(string topic, int partition, long offset, int max, CancellationToken cancellationToken = default)
    {
        var page = await gateway.FetchAsync(topic, partition, offset, max, 0, cancellationToken);
        return [.. page.Records.Select(r => new TopicRecord(r.Offset, r.Key, r.Value, DateTimeOffset.FromUnixTimeMilliseconds(r.Timestamp)))];
    }
}
