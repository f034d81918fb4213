using ActorGrid.Broker;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Confluent.Kafka;

namespace ActorGrid.Kafka.Tests;

/// <summary>Test clusters with the broker and the Kafka door on free ports, and Confluent.Kafka clients pointed at them.</summary>
internal static class KafkaGrid
{
    public static Task<GridTestCluster> StartAsync(int nodes, Action<string>? log = null) =>
        GridTestCluster.StartAsync(nodes, grid => grid.WithBroker().WithKafkaFrontDoor(), new GridTestClusterOptions
        {
            Log = log,
            Configure = (_, options) => options with { Kafka = options.Kafka with { Port = FreePorts.Take(1)[0] } },
        });

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
