using ActorGrid.Broker;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace ActorGrid.Kafka.Tests;

/// <summary>Test clusters with the broker and the Kafka door on free ports, and Confluent.Kafka clients pointed at them.</summary>
internal static class KafkaGrid
{
    public static Task<GridTestCluster> StartAsync(int nodes, Action<string>? log = null, Func<BrokerProtocol.Settings, BrokerProtocol.Settings>? broker = null) =>
        GridTestCluster.StartAsync(nodes, grid => (broker is null ? grid.WithBroker() : grid.WithBroker(broker)).WithKafkaFrontDoor(), new GridTestClusterOptions
        {
            Log = log,
            Configure = (_, options) => options with { Kafka = options.Kafka with { Port = FreePorts.Take(1)[0] } },
        });

    /// <summary>
    /// Creates a topic with the admin client, asking again while the broker answers REQUEST_TIMED_OUT (a loaded
    /// machine: the entity's first start outlasted the ask), as the error says to. <paramref name="configure"/> adds
    /// to the admin client's configuration (SASL credentials).
    /// </summary>
    public static Task CreateTopicAsync(string bootstrap, string topic, int partitions, Func<AdminClientConfig, AdminClientConfig>? configure = null) => Eventually.AwaitAsync(async () =>
    {
        var config = new AdminClientConfig { BootstrapServers = bootstrap };
        using var admin = new AdminClientBuilder(configure?.Invoke(config) ?? config).Build();
        try
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
            return null;
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.RequestTimedOut or ErrorCode.TopicAlreadyExists))
        {
            return e.Results.All(r => r.Error.Code == ErrorCode.TopicAlreadyExists) ? null : e.Message;
        }
    }, TimeSpan.FromSeconds(60), $"topic {topic} created");

    /// <summary>host:port of the Kafka listener of <paramref name="nodes"/>.</summary>
    public static string Bootstrap(params GridTestNode[] nodes) => string.Join(",", nodes.Select(n => $"127.0.0.1:{n.Options.Kafka.Port}"));

    public static ProducerConfig Producer(string bootstrap, bool idempotent = true) => new()
    {
        BootstrapServers = bootstrap,
        EnableIdempotence = idempotent,
        Acks = Acks.All,
        LingerMs = 5,
        MessageTimeoutMs = 60_000,
        SocketTimeoutMs = 10_000,
        TopicMetadataRefreshIntervalMs = 2000,
    };

    public static ConsumerConfig Consumer(string bootstrap, string group) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        SessionTimeoutMs = 6000,
        HeartbeatIntervalMs = 500,
        MaxPollIntervalMs = 60_000,
        SocketTimeoutMs = 10_000,
        TopicMetadataRefreshIntervalMs = 2000,
        FetchWaitMaxMs = 200,
    };
}
