using System.Text;
using ActorGrid.TestKit;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace ActorGrid.Kafka.Tests;

/// <summary>Unmodified Confluent.Kafka (librdkafka) against ActorGrid's Kafka door on in-process nodes.</summary>
public sealed class ConfluentKafkaSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_producer_with_acks_all_writes_what_an_assigned_consumer_reads_back_in_order_with_offsets_by_time()
    {
        await using var cluster = await KafkaGrid.StartAsync(1, output.WriteLine);
        var bootstrap = KafkaGrid.Bootstrap(cluster[0]);
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "clicks", NumPartitions = 3, ReplicationFactor = 1 }]);
            var metadata = admin.GetMetadata("clicks", TimeSpan.FromSeconds(10));
            Assert.Equal(3, metadata.Topics.Single().Partitions.Count);
            Assert.Single(metadata.Brokers);
        }

        var before = DateTimeOffset.UtcNow;
        var delivered = new List<DeliveryResult<string, string>>();
        using (var producer = new ProducerBuilder<string, string>(KafkaGrid.Producer(bootstrap)).Build())
        {
            for (var i = 0; i < 300; i++)
            {
                delivered.Add(await producer.ProduceAsync("clicks", new Message<string, string> { Key = $"user-{i % 7}", Value = $"click-{i}" }));
            }
        }

        Assert.All(delivered, d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
        Assert.Equal(300, delivered.Select(d => (d.Partition.Value, d.Offset.Value)).Distinct().Count());

        using var consumer = new ConsumerBuilder<string, string>(KafkaGrid.Consumer(bootstrap, "unused")).Build();
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset("clicks", p, Offset.Beginning)));
        var read = new List<ConsumeResult<string, string>>();
        await Eventually.AwaitAsync(() =>
        {
            while (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
            {
                read.Add(result);
            }

            return read.Count >= 300 ? null : $"read {read.Count} of 300";
        }, Deadline, "the consumer reads every record");

        Assert.Equal(delivered.Select(d => (d.Partition.Value, d.Offset.Value, d.Message.Key, d.Message.Value)).Order(),
            read.Select(r => (r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value)).Order());
        foreach (var partition in read.GroupBy(r => r.Partition.Value))
        {
            Assert.Equal(partition.Select(r => r.Offset.Value).Order(), partition.Select(r => r.Offset.Value));
        }

        var byTime = consumer.OffsetsForTimes([new TopicPartitionTimestamp("clicks", 0, new Timestamp(before))], TimeSpan.FromSeconds(10));
        Assert.Equal(0, byTime.Single().Offset.Value);
        var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition("clicks", 1), TimeSpan.FromSeconds(10));
        Assert.Equal(0, watermarks.Low.Value);
        Assert.Equal(delivered.Count(d => d.Partition.Value == 1), watermarks.High.Value);
    }
}
