#nullable enable
using System.Diagnostics;
using System.Globalization;
using ActorGrid.TestKit.Processes;
using ActorGrid.Configuration;
using ActorGrid.Hosting;
using ActorGrid.KeyValue;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.Benchmarks.Kv;

/// <summary>
/// Durable PUT throughput: many concurrent writers ask KV partitions through the shard region and wait for the
/// acknowledgement (the write is in the journal), against the raw Akka.NET baseline (<see cref="RawKv"/>) in the
/// same actor system, same SQLite journal file, same partition count, same keys and values. Rounds alternate
/// (ABBA) so that drift on a shared machine hits both sides alike; the medians are compared.
/// </summary>
public static class KvBenchmark
{
    /// <summary>
    /// Runs the benchmark. Options: --writers N, --seconds S, --rounds R, --partitions P, --value-bytes B, --keys K,
    /// --snapshot-every N (both sides), --hocon "extra Akka config" (both sides, for experiments).
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var writers = Bench.Option(args, "--writers", 256);
        var seconds = Bench.Option(args, "--seconds", 8);
        var rounds = Bench.Option(args, "--rounds", 4);
        var partitions = Bench.Option(args, "--partitions", 16);
        var valueBytes = Bench.Option(args, "--value-bytes", 100);
        var keys = Bench.Option(args, "--keys", 10_000);

        var dataDir = Path.Combine(Path.GetTempPath(), "actorgrid-bench", Guid.NewGuid().ToString("N")[..8]);
        var options = new ActorGridOptions
        {
            ClusterName = "bench",
            Port = 0,
            DataDir = dataDir,
            Kv = new KvOptions { Partitions = partitions },
            Persistence = new PersistenceOptions { SnapshotEvery = Bench.Option(args, "--snapshot-every", 1000) },
        };

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var extraHocon = Bench.TextOption(args, "--hocon");
        builder.Services.AddActorGrid(options, grid =>
        {
            grid.WithKeyValue().AddRole(new RawKv.Role());
            if (!string.IsNullOrEmpty(extraHocon))
            {
                grid.ConfigureAkka(akka => akka.AddHocon(Akka.Configuration.ConfigurationFactory.ParseString(extraHocon), HoconAddMode.Prepend));
            }
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            await WaitUntilUpAsync(system);
            var registry = ActorRegistry.For(system);
            var kv = registry.Get<KvPartitionRegion>();
            var raw = registry.Get<RawKv.Region>();
            var value = new byte[valueBytes];
            Random.Shared.NextBytes(value);
            var keyNames = Enumerable.Range(0, keys).Select(i => "bench/" + i.ToString("D6", CultureInfo.InvariantCulture)).ToArray();
            var placement = keyNames.Select(k => KvKeys.PartitionOf(k, partitions)).ToArray();
            var timeout = TimeSpan.FromSeconds(30);

            async Task PutKv(int i)
            {
                var reply = await kv.Ask<WriteResult>(new Put(KvKeys.EntityId(placement[i]), keyNames[i], value, Precondition.None, null), timeout);
                if (reply.Status != WriteStatus.Written)
                {
                    throw new InvalidOperationException($"KV put failed: {reply}");
                }
            }

            Task PutRaw(int i) => raw.Ask<RawKv.Ack>(new RawKv.Put(RawKv.EntityId(placement[i]), keyNames[i], value), timeout);

            Console.WriteLine($"kv benchmark: {writers} writers, {partitions} partitions, {keys} keys, {valueBytes}-byte values, {rounds} rounds of {seconds}s per side, SQLite WAL journal");
            // JIT tiering and the journal's connection pool need a while; both sides get the same warm-up.
            Console.WriteLine("warm-up ...");
            for (var i = 0; i < 2; i++)
            {
                await MeasureAsync(PutKv, writers, keys, TimeSpan.FromSeconds(4));
                await MeasureAsync(PutRaw, writers, keys, TimeSpan.FromSeconds(4));
            }

            var kvRates = new List<double>();
            var rawRates = new List<double>();
            var kvCpu = new List<double>();
            var rawCpu = new List<double>();
            var kvLatency = new List<double>();
            var rawLatency = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                // ABBA: kv, raw, raw, kv, ...
                var kvFirst = round % 2 == 0;
                foreach (var side in kvFirst ? new[] { "kv", "raw" } : ["raw", "kv"])
                {
                    var cpuBefore = Bench.SelfCpu();
                    var watch = Stopwatch.StartNew();
                    var rate = await MeasureAsync(side == "kv" ? PutKv : PutRaw, writers, keys, TimeSpan.FromSeconds(seconds), side == "kv" ? kvLatency : rawLatency);
                    var cpuPerPut = (Bench.SelfCpu() - cpuBefore).TotalMicroseconds / (rate * watch.Elapsed.TotalSeconds);
                    (side == "kv" ? kvRates : rawRates).Add(rate);
                    (side == "kv" ? kvCpu : rawCpu).Add(cpuPerPut);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1} {side,-3}: {rate,9:N0} acked puts/s, {cpuPerPut,6:N1} µs CPU per put (whole process)"));
                }
            }

            var kvMedian = Bench.Median(kvRates);
            var rawMedian = Bench.Median(rawRates);
            Console.WriteLine();
            Console.WriteLine("| Side | Median acked puts/s | Median CPU µs per put | put p50 / p99 / max ms | Rounds (puts/s) |");
            Console.WriteLine("|---|---:|---:|---|---|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ActorGrid KV partition (region → KvPartition, group commit) | {kvMedian:N0} | {Bench.Median(kvCpu):N1} | {Percentile(kvLatency, 50):0.0} / {Percentile(kvLatency, 99):0.0} / {kvLatency.Max():0} | {string.Join(", ", kvRates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Raw Akka.NET sharded entity (PersistAll, same snapshot policy) | {rawMedian:N0} | {Bench.Median(rawCpu):N1} | {Percentile(rawLatency, 50):0.0} / {Percentile(rawLatency, 99):0.0} / {rawLatency.Max():0} | {string.Join(", ", rawRates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nratio ActorGrid / raw = {kvMedian / rawMedian:0.00}x throughput, {Bench.Median(rawCpu) / Bench.Median(kvCpu):0.00}x CPU efficiency"));

            var stats = await Task.WhenAll(Enumerable.Range(0, partitions).Select(p =>
                kv.Ask<PartitionStatsResult>(new GetPartitionStats(KvKeys.EntityId(p)), timeout)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"KV journal writes: {stats.Sum(s => s.Batches):N0} for {stats.Sum(s => s.Events):N0} events ({(double)stats.Sum(s => s.Events) / stats.Sum(s => s.Batches):0.0} events per write)"));
            var (rawWrites, rawEvents) = RawKv.Counters;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"raw journal writes: {rawWrites:N0} for {rawEvents:N0} events ({(double)rawEvents / rawWrites:0.0} events per write)"));
            return 0;
        }
        finally
        {
            await host.StopAsync();
            NodeProcess.TryDelete(dataDir);
        }
    }

    internal static async Task<double> MeasureAsync(Func<int, Task> put, int writers, int keys, TimeSpan duration, List<double>? latenciesMs = null)
    {
        long done = 0;
        var stopwatch = Stopwatch.StartNew();
        var perWriter = Enumerable.Range(0, writers).Select(_ => new List<double>()).ToArray();
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (stopwatch.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                await put(random.Next(keys));
                perWriter[w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref done);
            }
        }));
        await Task.WhenAll(tasks);
        latenciesMs?.AddRange(perWriter.SelectMany(l => l));
        return done / stopwatch.Elapsed.TotalSeconds;
    }

    internal static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)];
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
