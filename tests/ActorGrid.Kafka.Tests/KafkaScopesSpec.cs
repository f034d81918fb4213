using ActorGrid.Broker;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace ActorGrid.Kafka.Tests;

/// <summary>
/// SPEC §11 on the Kafka door: SASL/PLAIN with the node's tokens, and every API checks the token's scopes with the
/// rules the HTTP door uses (topic write, read, admin; group write). Refusals are Kafka's authorization error codes, not dropped connections.
/// </summary>
public sealed class KafkaScopesSpec(ITestOutputHelper output)
{
    private const string Admin = "kafka-admin-token-6e1b3d9f27";
    private const string Reader = "kafka-reader-token-4a8c2e0b59";
    private const string WriterA = "kafka-writer-a-token-9d7f1c3e8b";

    [Fact]
    public async Task A_token_may_produce_only_where_it_may_write_and_only_an_admin_deletes_topics()
    {
        var tokensFile = Path.Combine(Path.GetTempPath(), $"actorgrid-kafka-tokens-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(tokensFile, [$"{Admin} admin", $"{Reader} read", $"{WriterA} write:topic/a."]);
        try
        {
            await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithBroker().WithKafkaFrontDoor(), new GridTestClusterOptions
            {
                Log = output.WriteLine,
                Configure = (_, options) => options with
                {
                    Kafka = options.Kafka with { Port = FreePorts.Take(1)[0] },
                    Security = options.Security with { TokensFile = tokensFile },
                },
            });
            var bootstrap = KafkaGrid.Bootstrap(cluster[0]);
            using var admin = new AdminClientBuilder(Sasl(new AdminClientConfig { BootstrapServers = bootstrap }, Admin)).Build();
            foreach (var topic in new[] { "a.x", "b.x" })
            {
                await KafkaGrid.CreateTopicAsync(bootstrap, topic, 1, config => Sasl(config, Admin));
            }

            // A read-only token: the produce is refused and nothing is appended.
            var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() => ProduceAsync(bootstrap, Reader, "a.x", "from-reader"));
            Assert.Equal(ErrorCode.TopicAuthorizationFailed, refused.Error.Code);
            Assert.Equal(0, HighWatermark(bootstrap, "a.x"));

            // write:topic/a. produces to a.x, not to b.x (which it may not even see in the metadata).
            var written = await ProduceAsync(bootstrap, WriterA, "a.x", "from-writer");
            Assert.Equal(PersistenceStatus.Persisted, written.Status);
            var elsewhere = await Assert.ThrowsAsync<ProduceException<string, string>>(() => ProduceAsync(bootstrap, WriterA, "b.x", "from-writer"));
            Assert.Equal(ErrorCode.TopicAuthorizationFailed, elsewhere.Error.Code);
            Assert.Equal(1, HighWatermark(bootstrap, "a.x"));
            Assert.Equal(0, HighWatermark(bootstrap, "b.x"));

            using var writerAdmin = new AdminClientBuilder(Sasl(new AdminClientConfig { BootstrapServers = bootstrap }, WriterA)).Build();
            var listed = writerAdmin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).ToList();
            Assert.Contains("a.x", listed);
            Assert.DoesNotContain("b.x", listed);

            // Deleting a topic needs admin: refused per topic, and the topic and its record stay.
            var notDeleted = await Assert.ThrowsAsync<DeleteTopicsException>(() => writerAdmin.DeleteTopicsAsync(["a.x"]));
            Assert.Equal(ErrorCode.TopicAuthorizationFailed, notDeleted.Results.Single().Error.Code);
            var described = admin.GetMetadata("a.x", TimeSpan.FromSeconds(10)).Topics.Single();
            Assert.Equal(ErrorCode.NoError, described.Error.Code);
            Assert.Single(described.Partitions);
            Assert.Equal(1, HighWatermark(bootstrap, "a.x"));

            // Joining a group needs write on it: a read-only token's consumer is refused with GROUP_AUTHORIZATION_FAILED.
            using var reader = new ConsumerBuilder<string, string>(Sasl(KafkaGrid.Consumer(bootstrap, "readers"), Reader)).Build();
            reader.Subscribe("a.x");
            var groupRefusal = ErrorCode.NoError;
            await Eventually.AwaitAsync(() =>
            {
                try
                {
                    Assert.Null(reader.Consume(TimeSpan.FromMilliseconds(200)));
                }
                catch (ConsumeException e)
                {
                    groupRefusal = e.Error.Code;
                }

                return groupRefusal == ErrorCode.GroupAuthorizationFailed ? null : $"consumer error so far: {groupRefusal}";
            }, TimeSpan.FromSeconds(30), "the read-only consumer is refused the group");
        }
        finally
        {
            File.Delete(tokensFile);
        }
    }

    private static T Sasl<T>(T config, string token)
        where T : ClientConfig
    {
        config.SecurityProtocol = SecurityProtocol.SaslPlaintext;
        config.SaslMechanism = SaslMechanism.Plain;
        config.SaslUsername = "spec";
        config.SaslPassword = token;
        return config;
    }

    private static async Task<DeliveryResult<string, string>> ProduceAsync(string bootstrap, string token, string topic, string value)
    {
        var config = Sasl(KafkaGrid.Producer(bootstrap, idempotent: false), token);
        config.MessageTimeoutMs = 30_000;
        using var producer = new ProducerBuilder<string, string>(config).Build();
        return await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = value });
    }

    /// <summary>The end offset of partition 0, as an admin sees it.</summary>
    private static long HighWatermark(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<string, string>(Sasl(KafkaGrid.Consumer(bootstrap, "scopes-spec"), Admin)).Build();
        return consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10)).High.Value;
    }
}
