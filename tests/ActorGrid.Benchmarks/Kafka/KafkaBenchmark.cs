#nullable enable
using System.Diagnostics;
using System.Globalization;
using ActorGrid.Benchmarks.Broker;
using ActorGrid.Broker;
using ActorGrid.Broker.Gateway;
using ActorGrid.Broker.Partitions;
using ActorGrid.Client;
using ActorGrid.Configuration;
using ActorGrid.Hosting;
using ActorGrid.Kafka;
using ActorGrid.TestKit.Processes;
using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Streams;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TopicConfig = ActorGrid.Broker.BrokerProtocol.TopicConfig;

namespace ActorGrid.Benchmarks.Kafka;

/// <summary>
/// The Kafka door against the other ways into the same journal, on one node in this process and one SQLite WAL journal file:
/// <list type="bullet">
/// <item>produce: Confluent.Kafka producers (acks=all, linger.ms 5, 100-byte values; in a process of their own,
/// <see cref="KafkaProducerClient"/>) through the Kafka door, one idempotent and one not (librdkafka's default); the
/// HTTP produce path (100 records per POST, many at once); bare persistent actors writing the broker's record event in
/// PersistAll batches of 1000 (the raw batched journal rate), once as the plain producer's records are stored and once
/// with the producer id and sequences the idempotent producer's records carry, so each Kafka line has a raw line that
/// writes the same bytes;</item>
/// <item>consume: a Confluent.Kafka consumer reading partition 0 from offset 0 to its end (from the journal, past
/// the in-memory tail) against one raw CurrentEventsByPersistenceId stream over the same events.</item>
/// </list>
/// Rounds alternate the sides (ABBA); medians are compared, with the node's CPU per produced record on each side.
/// </summary>
public static class KafkaBenchmark
{
    private const string KafkaProduce = "Confluent.Kafka idempotent producer (acks=all, linger 5 ms)";
    private const string KafkaPlainProduce = "Confluent.Kafka producer, not idempotent (acks=all, linger 5 ms)";
    private const string RawProduce = "raw PersistAll, 1000 events per batch";
    private const string RawIdempotentProduce = "raw PersistAll, 1000 events per batch, producer id and sequences";

    /// <summary>
    /// Options: --partitions P, --seconds S, --rounds R, --value-bytes B, --http-producers C, --inline 0|1 (default 1, as
    /// the node), --client-nice N (default 19: the Kafka producer's process runs at nice N, so that on the shared cores
    /// it takes the CPU the node leaves, as a client on a machine of its own would; 0 to let it compete), and the
    /// journal options of <see cref="Bench.JournalTuning"/>.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var partitions = Bench.Option(args, "--partitions", 4);
        var seconds = Bench.Option(args, "--seconds", 5);
        var rounds = Bench.Option(args, "--rounds", 2);
        var valueBytes = Bench.Option(args, "--value-bytes", 100);
        var httpProducers = Bench.Option(args, "--http-producers", 64);
        var clientNice = Bench.Option(args, "--client-nice", 19);
        var dataDir = Path.Combine(Path.GetTempPath(), "actorgrid-bench", Guid.NewGuid().ToString("N")[..8]);
        // As the node executable runs (ActorGrid:InlineIo), before the first socket opens.
        var inline = Bench.Option(args, "--inline", 1) == 1;
        if (inline)
        {
            InlineIo.EnableSocketCompletions();
        }

        var options = new ActorGridOptions
        {
            ClusterName = "bench",
            Port = 0,
            DataDir = dataDir,
            InlineIo = inline,
        };
        var ports = FreePorts.Take(2);
        options = options with { Kafka = options.Kafka with { Port = ports[0] } };
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{ports[1]}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var journalTuning = Bench.JournalTuning(args);
        builder.Services.AddActorGrid(options, grid =>
        {
            grid.WithBroker().WithKafkaFrontDoor();
            if (journalTuning.Length > 0)
            {
                grid.ConfigureAkka(akka => akka.AddHocon(journalTuning, HoconAddMode.Prepend));
            }
        });
        await using var app = builder.Build();
        app.MapActorGrid();
        await app.StartAsync();
        try
        {
            var system = app.Services.GetRequiredService<ActorSystem>();
            await BrokerBenchmark.WaitUntilUpAsync(system);
            var gateway = app.Services.GetRequiredService<BrokerGateway>();
            await gateway.CreateTopicAsync(new TopicConfig("bench", partitions, null, null), CancellationToken.None);
            var value = new byte[valueBytes];
            Random.Shared.NextBytes(value);
            var bootstrap = $"127.0.0.1:{ports[0]}";
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}"), Timeout = TimeSpan.FromSeconds(60) };
            var client = new ActorGridClient(http);
            var writers = Enumerable.Range(0, partitions).Select(i => system.ActorOf(RawJournalWriter.PropsFor($"bench/raw/{i}"))).ToArray();
            var httpRecords = Enumerable.Range(0, 100).Select(i => ProducerRecord.Binary($"key-{i}", value)).ToList();

            // The node's CPU per record on each side (this process's CPU: the Kafka client runs in a process of its own;
            // the HTTP side's client shares this process, so its figure includes the client).
            var nodeCpu = new Dictionary<string, List<double>>();
            void NodeCpu(string side, TimeSpan cpu, double records) =>
                (nodeCpu.TryGetValue(side, out var list) ? list : nodeCpu[side] = []).Add(cpu.TotalMicroseconds / records);
            Func<Task<long>> Metered(string side, Func<Task<long>> run) => async () =>
            {
                var cpu = Bench.SelfCpu();
                var clock = Stopwatch.StartNew();
                var perRound = await run();
                NodeCpu(side, Bench.SelfCpu() - cpu, perRound * clock.Elapsed.TotalSeconds / seconds);
                return perRound;
            };

            // The producer runs in a process of its own (KafkaProducerClient), at nice --client-nice: on 2 shared cores
            // librdkafka's broker thread takes 0.5–0.8 of a core at this rate, and the node's CPU is measured without it.
            async Task<long> Kafka(bool idempotent)
            {
                using var producer = Process.Start(new ProcessStartInfo("nice",
                [
                    "-n", $"{clientNice}", "dotnet", typeof(KafkaBenchmark).Assembly.Location, "kafka-producer",
                    "--bootstrap", bootstrap, "--partitions", $"{partitions}", "--seconds", $"{seconds}", "--value-bytes", $"{valueBytes}",
                    "--idempotent", idempotent ? "1" : "0",
                ]) { RedirectStandardOutput = true })!;
                var started = await producer.StandardOutput.ReadLineAsync();
                var cpu = Bench.SelfCpu();
                var result = await producer.StandardOutput.ReadLineAsync();
                var cpuUsed = Bench.SelfCpu() - cpu;
                await producer.WaitForExitAsync();
                if (producer.ExitCode != 0 || started != "started" || result?.Split(' ') is not ["acked", var acked, "seconds", var elapsed])
                {
                    throw new InvalidOperationException($"the Kafka producer process failed (exit code {producer.ExitCode}: {started} / {result})");
                }

                var records = long.Parse(acked, CultureInfo.InvariantCulture);
                NodeCpu(idempotent ? KafkaProduce : KafkaPlainProduce, cpuUsed, records);
                return (long)(records * seconds / double.Parse(elapsed, CultureInfo.InvariantCulture));
            }

            var httpProduce = $"HTTP produce, 100 records per POST, {httpProducers} at once";
            Task<long> Http() => BrokerBenchmark.MeasureAsync(httpProducers, TimeSpan.FromSeconds(seconds), async _ =>
                (await client.Broker.ProduceAsync("bench", httpRecords)).Count);

            Task<long> Raw() => BrokerBenchmark.MeasureAsync(partitions, TimeSpan.FromSeconds(seconds), async w =>
                (await writers[w].Ask<RawJournalWriter.Written>(new RawJournalWriter.Write(1000, value), TimeSpan.FromSeconds(60))).Count);

            // The same, with the producer id and sequences an idempotent Kafka producer's records carry (the producer
            // id as the door writes it: kafka-{19-digit id}.{epoch}): the same bytes per record as the Kafka side.
            var idempotentWriters = Enumerable.Range(0, partitions).Select(i => system.ActorOf(RawJournalWriter.PropsFor($"bench/raw-idempotent/{i}"))).ToArray();
            var rawProducerId = KafkaApiHandler.BrokerProducerId(4_611_686_018_427_387_904 + Random.Shared.NextInt64(1L << 60), 0);
            Task<long> RawIdempotent() => BrokerBenchmark.MeasureAsync(partitions, TimeSpan.FromSeconds(seconds), async w =>
                (await idempotentWriters[w].Ask<RawJournalWriter.Written>(new RawJournalWriter.Write(1000, value, rawProducerId), TimeSpan.FromSeconds(60))).Count);

            Console.WriteLine($"kafka benchmark: {partitions} partitions, {valueBytes}-byte values, {rounds} rounds of {seconds}s per side, SQLite WAL journal, inline I/O {(inline ? "on" : "off")}, Kafka client at nice {clientNice}");
            Console.WriteLine("warm-up ...");
            await Kafka(idempotent: true);
            await Kafka(idempotent: false);
            await Raw();
            var results = new Dictionary<string, List<double>>();
            await BrokerBenchmark.CompareAsync(results, rounds, seconds, [
                (KafkaProduce, () => Kafka(idempotent: true)),
                (KafkaPlainProduce, () => Kafka(idempotent: false)),
                (httpProduce, Metered(httpProduce, Http)),
                (RawProduce, Metered(RawProduce, Raw)),
                (RawIdempotentProduce, Metered(RawIdempotentProduce, RawIdempotent)),
            ]);

            var end = (await gateway.GetPartitionInfoAsync("bench", 0, CancellationToken.None)).EndOffset;
            var query = PersistenceQuery.Get(system).ReadJournalFor<ICurrentEventsByPersistenceIdQuery>(ActorGridHocon.QueryPluginId);
            var materializer = system.Materializer();
            (string Name, Func<Task<long>> Run)[] reads = [
                // The consumer blocks in Consume: on the thread pool, since with inline completions this method can
                // resume on a socket thread, and blocking that one would stall the door's connections it serves.
                ("Confluent.Kafka consumer catch-up", () => Task.Run(() =>
                {
                    using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
                    {
                        BootstrapServers = bootstrap,
                        GroupId = "bench-" + Guid.NewGuid().ToString("N")[..6],
                        EnableAutoCommit = false,
                        FetchMaxBytes = 50 * 1024 * 1024,
                    }).Build();
                    consumer.Assign(new TopicPartitionOffset("bench", 0, Confluent.Kafka.Offset.Beginning));
                    var clock = Stopwatch.StartNew();
                    long count = 0;
                    while (count < end && clock.Elapsed < TimeSpan.FromMinutes(5))
                    {
                        if (consumer.Consume(TimeSpan.FromSeconds(1)) is not null)
                        {
                            count++;
                        }
                    }

                    return (long)(count / clock.Elapsed.TotalSeconds);
                })),
                ("raw CurrentEventsByPersistenceId stream", async () =>
                {
                    var clock = Stopwatch.StartNew();
                    long count = 0;
                    await query.CurrentEventsByPersistenceId(TopicPartitionEntity.PersistenceIdFor("bench", 0), 1, end)
                        .RunForeach(_ => count++, materializer);
                    return (long)(count / clock.Elapsed.TotalSeconds);
                }),
            ];
            // Both reads once before measuring: the first reads JIT-compile the read path (linq2db, the door) and
            // meet the read journal's sequence actor catching up with the whole journal after it starts.
            Console.WriteLine("warm-up reads ...");
            foreach (var (_, warmUp) in reads)
            {
                await warmUp();
            }

            await BrokerBenchmark.CompareAsync(results, rounds, seconds, reads, rate: true);

            Console.WriteLine();
            Console.WriteLine($"catch-up read {end:N0} records of partition 0 per round");
            Console.WriteLine("| Run | Median records/s | Node CPU µs per record (median) | Rounds |");
            Console.WriteLine("|---|---:|---:|---|");
            foreach (var (name, rates) in results)
            {
                var cpu = nodeCpu.TryGetValue(name, out var perRecord) ? Bench.Median(perRecord).ToString("0.0", CultureInfo.InvariantCulture) : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Bench.Median(rates):N0} | {cpu} | {string.Join(", ", rates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} |"));
            }

            var kafka = Bench.Median(results[KafkaProduce]);
            var kafkaPlain = Bench.Median(results[KafkaPlainProduce]);
            var raw = Bench.Median(results[RawProduce]);
            var rawIdempotent = Bench.Median(results[RawIdempotentProduce]);
            Console.WriteLine();
            Console.WriteLine("Each Kafka producer against the raw line that writes the same records (target >= 0.8x):");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Kafka produce, not idempotent / raw PersistAll(1000) = {kafkaPlain / raw:0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Kafka produce, idempotent / raw PersistAll(1000) with producer id and sequences = {kafka / rawIdempotent:0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Kafka produce, idempotent / raw PersistAll(1000) = {kafka / raw:0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"node CPU per record, raw PersistAll(1000) / Kafka produce: not idempotent {Bench.Median(nodeCpu[RawProduce]) / Bench.Median(nodeCpu[KafkaPlainProduce]):0.00}x, " +
                $"idempotent (against the producer-id line) {Bench.Median(nodeCpu[RawIdempotentProduce]) / Bench.Median(nodeCpu[KafkaProduce]):0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Kafka catch-up / raw query stream    = {Bench.Median(results["Confluent.Kafka consumer catch-up"]) / Bench.Median(results["raw CurrentEventsByPersistenceId stream"]):0.00}x"));
            return 0;
        }
        finally
        {
            await app.StopAsync();
            NodeProcess.TryDelete(dataDir);
        }
    }
}
