#nullable enable
using ActorGrid.Contracts;

namespace ActorGrid.Broker.Gateway;

/// <summary>The broker's side of <see cref="ITopicWriter"/>: how other roles and embedding services produce without referencing the broker.</summary>
internal sealed class BrokerTopicWriter(BrokerGateway gateway) : ITopicWriter
{
    /// <inheritdoc />
    public async Task<(int Partition, long Offset)> ProduceAsync(
        string topic, string? key, byte[] value, string? producerId = null, long? sequence = null, CancellationToken cancellationToken = default)
    {
        var produced = await gateway.ProduceAsync(topic, producerId, sequence, [new ProduceRecord(key, value)], cancellationToken);
        return (produced[0].Partition, produced[0].Offset);
    }
}
