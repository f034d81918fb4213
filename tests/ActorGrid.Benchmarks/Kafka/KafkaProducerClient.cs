#nullable enable
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;

namespace ActorGrid.Benchmarks.Kafka;

/// <summary>
/// The <c>kafka</c> mode's producer, in a process of its own (mode <c>kafka-producer</c>): a Confluent.Kafka producer
/// (acks=all, linger.ms 5; idempotent unless <c>--idempotent 0</c>, librdkafka's default) sends <c>--value-bytes</c>
/// values round-robin over <c>--partitions</c> partitions of topic <c>bench</c> as fast as the client takes them, for
/// <c>--seconds</c> after a connected warm-up batch. Prints
/// <c>started</c> as the clock starts, then <c>acked N seconds E</c>: the records acknowledged and the seconds until the
/// last of them was.
/// </summary>
public static class KafkaProducerClient
{
    /// <summary>Options: --bootstrap HOST:PORT, --partitions P, --seconds S, --value-bytes B, --idempotent 1|0.</summary>
    public static Task<int> RunAsync(string[] args)
    {
        var bootstrap = Bench.TextOption(args, "--bootstrap") ?? throw new ArgumentException("--bootstrap HOST:PORT is required");
        var partitions = Bench.Option(args, "--partitions", 4);
        var seconds = Bench.Option(args, "--seconds", 5);
        var value = new byte[Bench.Option(args, "--value-bytes", 100)];
        Random.Shared.NextBytes(value);
        var idempotent = Bench.Option(args, "--idempotent", 1) == 1;
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            EnableIdempotence = idempotent,
            LingerMs = 5,
            QueueBufferingMaxMessages = 1_000_000,
            BatchNumMessages = 10_000,
            // The loop counts acknowledgements and needs nothing else back: the client then copies no key, value,
            // headers or timestamp into each of its delivery reports.
            DeliveryReportFields = "status",
        }).Build();

        var message = new Message<Null, byte[]> { Value = value };
        var topicPartitions = Enumerable.Range(0, partitions).Select(i => new TopicPartition("bench", i)).ToArray();
        long acked = 0;
        // One delivery handler shared by every record.
        Action<DeliveryReport<Null, byte[]>> delivered = r =>
        {
            if (r.Error.Code == ErrorCode.NoError)
            {
                Interlocked.Increment(ref acked);
            }
        };

        // Connected, with its producer id, before the clock starts.
        foreach (var partition in topicPartitions)
        {
            producer.Produce(partition, message, delivered);
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        if (Interlocked.Exchange(ref acked, 0) != partitions)
        {
            Console.Error.WriteLine("kafka-producer: the warm-up records were not acknowledged");
            return Task.FromResult(1);
        }

        Console.WriteLine("started");
        var clock = Stopwatch.StartNew();
        var p = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            try
            {
                producer.Produce(topicPartitions[p++ % partitions], message, delivered);
            }
            catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(1));
            }
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"acked {Interlocked.Read(ref acked)} seconds {clock.Elapsed.TotalSeconds:0.000}"));
        return Task.FromResult(0);
    }
}
