using System.Text;
using ActorGrid.Broker.Gateway;
using ProducerRecord = ActorGrid.Client.ProducerRecord;
using ActorGrid.TestKit;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ActorGrid.Kafka.Tests;

/// <summary>Unmodified Confluent.Kafka (librdkafka) against ActorGrid's Kafka door on in-process nodes.</summary>
public sealed class ConfluentKafkaSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_producer_with_acks_all_writes_what_an_assigned_consumer_reads_back_in_order_with_offsets_by_time_and_the_admin_client_deletes_the_topic()
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
        var read = await ReadAtLeastAsync(consumer, 300);

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

        // DeleteTopics: the topic and its records are gone (the same deletion as DELETE /topics/{topic}); created again, it is empty.
        consumer.Unassign();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            await admin.DeleteTopicsAsync(["clicks"]);
            var again = await Assert.ThrowsAsync<DeleteTopicsException>(() => admin.DeleteTopicsAsync(["clicks"]));
            Assert.Equal(ErrorCode.UnknownTopicOrPart, again.Results.Single().Error.Code);
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "clicks", NumPartitions = 2, ReplicationFactor = 1 }]);
            Assert.Equal(2, admin.GetMetadata("clicks", TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count);
        }

        var emptied = consumer.QueryWatermarkOffsets(new TopicPartition("clicks", 1), TimeSpan.FromSeconds(10));
        Assert.Equal(emptied.Low.Value, emptied.High.Value);
    }

    [Fact]
    public async Task A_consumer_far_behind_reads_many_journal_pages_per_fetch_in_order_once_each_within_its_byte_budget()
    {
        // Pages of 50 records and a tail of 100 in memory: 2,900 of the 3,000 records come from the journal, several
        // pages per fetch (read in parallel) and the next ones read ahead while the consumer takes the last.
        await using var cluster = await KafkaGrid.StartAsync(1, output.WriteLine, s => s with { TailMaxRecords = 100, MaxFetchRecords = 50 });
        var broker = cluster[0].Client.Broker;
        await broker.CreateTopicAsync("history", 1);
        for (var batch = 0; batch < 30; batch++)
        {
            await broker.ProduceAsync("history", Enumerable.Range(0, 100).Select(i => ProducerRecord.Text($"k{i}", $"r{(batch * 100) + i:D4}")));
        }

        var gateway = cluster[0].Services.GetRequiredService<BrokerGateway>();
        var topic = (await gateway.FindTopicAsync("history", CancellationToken.None))!;
        var wide = await gateway.FetchBytesAsync(topic, 0, 0, 1024 * 1024, 0, 8, CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 9 * 50).Select(i => (long)i), wide.Records.Select(r => r.Offset));
        Assert.Equal(450, wide.NextOffset);
        // A budget of about three pages' values (5 bytes each) stops there; one smaller than a record still gets that record.
        var three = await gateway.FetchBytesAsync(topic, 0, 1000, 3 * 50 * 5, 0, 8, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1000, 150).Select(i => (long)i), three.Records.Select(r => r.Offset));
        Assert.Equal(2000, Assert.Single((await gateway.FetchBytesAsync(topic, 0, 2000, 1, 0, 8, CancellationToken.None)).Records).Offset);

        var config = KafkaGrid.Consumer(KafkaGrid.Bootstrap(cluster[0]), "history-readers");
        config.MaxPartitionFetchBytes = 4096;
        using var consumer = new ConsumerBuilder<string, string>(config).Build();
        consumer.Assign(new TopicPartitionOffset("history", 0, Offset.Beginning));
        var read = await ReadAtLeastAsync(consumer, 3000);

        Assert.Equal(Enumerable.Range(0, 3000).Select(i => (long)i), read.Select(r => r.Offset.Value));
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => $"r{i:D4}"), read.Select(r => r.Message.Value));
    }

    [Fact]
    public async Task Every_compression_librdkafka_offers_is_read_back_and_an_unsupported_version_keeps_the_connection()
    {
        await using var cluster = await KafkaGrid.StartAsync(1, output.WriteLine);
        var bootstrap = KafkaGrid.Bootstrap(cluster[0]);
        await KafkaGrid.CreateTopicAsync(bootstrap, "compressed", 1);
        var codecs = new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd };
        foreach (var codec in codecs)
        {
            var config = KafkaGrid.Producer(bootstrap);
            config.CompressionType = codec;
            using var producer = new ProducerBuilder<string, string>(config).Build();
            var sends = Enumerable.Range(0, 50).Select(i => producer.ProduceAsync("compressed",
                new Message<string, string> { Key = $"{codec}-{i}", Value = $"{codec}:{new string('z', 200)}:{i}" }));
            Assert.All(await Task.WhenAll(sends), d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
        }

        using var consumer = new ConsumerBuilder<string, string>(KafkaGrid.Consumer(bootstrap, "unused")).Build();
        consumer.Assign(new TopicPartitionOffset("compressed", 0, Offset.Beginning));
        var read = new List<string>();
        await Eventually.AwaitAsync(() =>
        {
            while (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
            {
                read.Add(result.Message.Value);
            }

            return read.Count >= 250 ? null : $"read {read.Count} of 250";
        }, Deadline, "every compressed record is read back");
        Assert.Equal(codecs.SelectMany(c => Enumerable.Range(0, 50).Select(i => $"{c}:{new string('z', 200)}:{i}")).Order(), read.Order());

        // ApiVersions v99 is answered in the v0 layout with UNSUPPORTED_VERSION; Metadata v99 with the error alone;
        // the same connection then serves a supported request.
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync("127.0.0.1", cluster[0].Options.Kafka.Port);
        var stream = socket.GetStream();
        var apiVersions = await RoundTripAsync(stream, apiKey: 18, version: 99, correlationId: 7);
        Assert.Equal(7, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(apiVersions));
        Assert.Equal(35, System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(apiVersions.AsSpan(4)));
        var metadata = await RoundTripAsync(stream, apiKey: 3, version: 99, correlationId: 8);
        Assert.Equal(35, System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(metadata.AsSpan(4)));
        var supported = await RoundTripAsync(stream, apiKey: 18, version: 0, correlationId: 9);
        Assert.Equal((9, (short)0), (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(supported), System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(supported.AsSpan(4))));
    }

    private static async Task<byte[]> RoundTripAsync(Stream stream, short apiKey, short version, int correlationId)
    {
        var request = new Protocol.KafkaWriter().Int16(apiKey).Int16(version).Int32(correlationId).String("spec", false).ToArray();
        await stream.WriteAsync(new Protocol.KafkaWriter().Int32(request.Length).Raw(request).ToArray());
        var size = new byte[4];
        await stream.ReadExactlyAsync(size);
        var response = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(size)];
        await stream.ReadExactlyAsync(response);
        return response;
    }

    /// <summary>Consumes until at least <paramref name="count"/> records arrived (within the deadline).</summary>
    private static async Task<List<ConsumeResult<string, string>>> ReadAtLeastAsync(IConsumer<string, string> consumer, int count)
    {
        var read = new List<ConsumeResult<string, string>>();
        await Eventually.AwaitAsync(() =>
        {
            while (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
            {
                read.Add(result);
            }

            return read.Count >= count ? null : $"read {read.Count} of {count}";
        }, Deadline, "the consumer reads every record");
        return read;
    }
}
