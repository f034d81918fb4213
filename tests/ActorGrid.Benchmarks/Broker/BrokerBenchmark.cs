#nullable enable
using System.Diagnostics;
using System.Globalization;
using ActorGrid.TestKit.Processes;
using ActorGrid.Broker;
using ActorGrid.Broker.Gateway;
using ActorGrid.Broker.Partitions;
using ActorGrid.Broker.Topics;
using ActorGrid.Configuration;
using ActorGrid.Hosting;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Streams;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Benchmarks.Broker;

/// <summary>
/// Broker throughput against the raw journal, in one process, one actor system and one SQLite WAL journal file:
/// <list type="bullet">
/// <item>acked produce (the broker edge → shard region → partition, acknowledged after the journal write) with 1 and
/// with 100 records per request, many producers at once, against bare persistent actors writing the same record
/// events with <c>PersistAll</c> batches of 100 and 1000;</item>
/// <item>catch-up consume of a partition from offset 0 in pages (older than the in-memory tail, so read from the
/// journal), against one raw <c>CurrentEventsByPersistenceId</c> stream over the same events.</item>
/// </list>
/// Rounds alternate the sides (ABBA) so that drift on a shared machine hits both alike; medians are compared.
/// </summary>
public static class BrokerBenchmark
{
    /// <summary>Options: --partitions P, --producers C, --seconds S, --rounds R, --value-bytes B, --snapshot-every N, and the journal options of <see cref="Bench.JournalTuning"/>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var partitions = Bench.Option(args, "--partitions", 4);
        var producers = Bench.Option(args, "--producers", 256);
        var seconds = Bench.Option(args, "--seconds", 5);
        var rounds = Bench.Option(args, "--rounds", 2);
        var valueBytes = Bench.Option(args, "--value-bytes", 100);
        var only = Array.IndexOf(args, "--only");
        _only = only >= 0 && only + 1 < args.Length ? args[only + 1] : null;

        var dataDir = Path.Combine(Path.GetTempPath(), "actorgrid-bench", Guid.NewGuid().ToString("N")[..8]);
        var options = new ActorGridOptions
        {
            ClusterName = "bench",
            Port = 0,
            DataDir = dataDir,
            Persistence = new PersistenceOptions { SnapshotEvery = Bench.Option(args, "--snapshot-every", 1000) },
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var journalTuning = Bench.JournalTuning(args);
        builder.Services.AddActorGrid(options, grid =>
        {
            grid.WithBroker();
            if (journalTuning.Length > 0)
            {
                grid.ConfigureAkka(akka => akka.AddHocon(journalTuning, HoconAddMode.Prepend));
            }
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            await WaitUntilUpAsync(system);
            var gateway = host.Services.GetRequiredService<BrokerGateway>();
            var value = new byte[valueBytes];
            Random.Shared.NextBytes(value);
            await gateway.CreateTopicAsync(new TopicConfig("bench", partitions, null, null), CancellationToken.None);
            // One key per partition, so a request goes to one partition as a single append command.
            var keys = Enumerable.Range(0, partitions)
                .Select(p => Enumerable.Range(0, 10_000).Select(i => $"key-{i}").First(k => KeyPartitioner.ForKey(k, partitions) == p))
                .ToArray();
            var writers = Enumerable.Range(0, partitions).Select(i => system.ActorOf(RawJournalWriter.PropsFor($"bench/raw/{i}"))).ToArray();

            Func<Task<long>> Produce(int perRequest) => async () =>
            {
                var records = Enumerable.Range(0, producers).Select(c => Enumerable.Range(0, perRequest)
                    .Select(_ => new ProduceRecord(keys[c % partitions], value)).ToArray()).ToArray();
                return await MeasureAsync(producers, TimeSpan.FromSeconds(seconds), async c =>
                {
                    await gateway.ProduceAsync("bench", null, null, records[c], CancellationToken.None);
                    return perRequest;
                });
            };

            var partitionRegion = Akka.Hosting.ActorRegistry.For(system).Get<TopicPartitionRegion>();
            Func<Task<long>> Append(int perCommand) => async () =>
            {
                var commands = Enumerable.Range(0, producers).Select(c => new AppendRecords("bench", c % partitions, null,
                    [.. Enumerable.Range(0, perCommand).Select(_ => new NewRecord(keys[c % partitions], value, -1))])).ToArray();
                return await MeasureAsync(producers, TimeSpan.FromSeconds(seconds), async c =>
                {
                    await partitionRegion.Ask<AppendResult>(commands[c], TimeSpan.FromSeconds(60));
                    return perCommand;
                });
            };

            Func<Task<long>> Raw(int batch) => () => MeasureAsync(partitions, TimeSpan.FromSeconds(seconds), async w =>
                (await writers[w].Ask<RawJournalWriter.Written>(new RawJournalWriter.Write(batch, value), TimeSpan.FromSeconds(60))).Count);

            Console.WriteLine($"broker benchmark: {partitions} partitions, {producers} concurrent producers, {valueBytes}-byte values, {rounds} rounds of {seconds}s per side, SQLite WAL journal");
            Console.WriteLine("warm-up ...");
            await Produce(1)();
            await Raw(1000)();

            var results = new Dictionary<string, List<double>>();
            await CompareAsync(results, rounds, seconds, [
                ("produce, 1 record per request", Produce(1)),
                ("produce, 100 records per request", Produce(100)),
                ("append command to the region, 1 record", Append(1)),
                ("raw PersistAll, 100 events per batch", Raw(100)),
                ("raw PersistAll, 1000 events per batch", Raw(1000)),
            ]);

            // Catch-up: partition 0 of the produced topic, read from 0; the tail in memory holds only the newest records.
            var end = (await gateway.GetPartitionInfoAsync("bench", 0, CancellationToken.None)).EndOffset;
            var query = PersistenceQuery.Get(system).ReadJournalFor<ICurrentEventsByPersistenceIdQuery>(ActorGridHocon.QueryPluginId);
            var materializer = system.Materializer();
            (string Name, Func<Task<long>> Run)[] reads = [
                ("catch-up fetch, pages of 1000", async () =>
                {
                    var clock = Stopwatch.StartNew();
                    long offset = 0;
                    while (offset < end)
                    {
                        offset = (await gateway.FetchAsync("bench", 0, offset, 1000, 0, CancellationToken.None)).NextOffset;
                    }

                    return (long)(end / clock.Elapsed.TotalSeconds);
                }),
                ("raw CurrentEventsByPersistenceId stream", async () =>
                {
                    var clock = Stopwatch.StartNew();
                    long count = 0;
                    await query.CurrentEventsByPersistenceId(TopicPartitionEntity.PersistenceIdFor("bench", 0), 1, end)
                        .RunForeach(_ => count++, materializer);
                    return (long)(count / clock.Elapsed.TotalSeconds);
                }),
            ];
            foreach (var (_, warmUp) in reads)
            {
                await warmUp();
            }

            await CompareAsync(results, rounds, seconds, reads, rate: true);

            Console.WriteLine();
            Console.WriteLine($"catch-up read {end:N0} records of partition 0 per round");
            Console.WriteLine("| Run | Median records/s | Rounds |");
            Console.WriteLine("|---|---:|---|");
            foreach (var (name, rates) in results)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Bench.Median(rates):N0} | {string.Join(", ", rates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} |"));
            }

            if (_only is not null)
            {
                return 0;
            }

            var raw = Bench.Median(results["raw PersistAll, 1000 events per batch"]);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"produce 1/request   / raw PersistAll(1000) = {Bench.Median(results["produce, 1 record per request"]) / raw:0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"append 1/command    / raw PersistAll(1000) = {Bench.Median(results["append command to the region, 1 record"]) / raw:0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"produce 100/request / raw PersistAll(1000) = {Bench.Median(results["produce, 100 records per request"]) / raw:0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"produce 100/request / raw PersistAll(100)  = {Bench.Median(results["produce, 100 records per request"]) / Bench.Median(results["raw PersistAll, 100 events per batch"]):0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"catch-up fetch      / raw query stream     = {Bench.Median(results["catch-up fetch, pages of 1000"]) / Bench.Median(results["raw CurrentEventsByPersistenceId stream"]):0.00}x"));
            return 0;
        }
        finally
        {
            await host.StopAsync();
            NodeProcess.TryDelete(dataDir);
        }
    }

    private static string? _only;

    internal static async Task CompareAsync(Dictionary<string, List<double>> results, int rounds, int seconds, (string Name, Func<Task<long>> Run)[] sides, bool rate = false)
    {
        sides = [.. sides.Where(s => _only is null || s.Name.Contains(_only, StringComparison.Ordinal))];
        for (var round = 0; round < rounds; round++)
        {
            var order = round % 2 == 0 ? sides : [.. sides.Reverse()];
            foreach (var (name, run) in order)
            {
                var value = await run();
                var perSecond = rate ? value : value / (double)seconds;
                (results.TryGetValue(name, out var list) ? list : results[name] = []).Add(perSecond);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1} {name,-42}: {perSecond,10:N0} records/s"));
            }
        }
    }

    /// <summary>Runs <paramref name="workers"/> loops for <paramref name="duration"/>; returns the records done.</summary>
    internal static async Task<long> MeasureAsync(int workers, TimeSpan duration, Func<int, Task<int>> step)
    {
        long done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                Interlocked.Add(ref done, await step(w));
            }
        })));
        // Normalise to exactly `duration`, since the last steps finish a little after it.
        return (long)(done * duration.TotalSeconds / clock.Elapsed.TotalSeconds);
    }

    internal static async Task WaitUntilUpAsync(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (cluster.SelfMember.Status != MemberStatus.Up)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the benchmark node did not come Up");
            }

            await Task.Delay(100);
        }
    }
}
