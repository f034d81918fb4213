#nullable enable
using System.Diagnostics;
using System.Globalization;
using ActorGrid.TestKit.Processes;
using ActorGrid.Configuration;
using ActorGrid.Hosting;
using ActorGrid.KeyValue;
using ActorGrid.Observability;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.Benchmarks.Kv;

/// <summary>
/// What the metrics cost: the KV benchmark's durable PUTs (region → partition, group commit) in rounds with no
/// meter listener ("off") and with an OpenTelemetry MeterProvider reading every ActorGrid meter and the runtime's,
/// collected every second ("on": a scrape every second, far more often than Prometheus does). Same actor system,
/// same journal; rounds alternate (ABBA) and the medians are compared.
/// </summary>
public static class KvMetricsOverheadBenchmark
{
    /// <summary>Options: --writers N, --seconds S, --rounds R, --partitions P, --value-bytes B, --keys K.</summary>
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
            // The node's own exporter stays off: the benchmark switches its provider on and off between rounds.
            Observability = new ObservabilityOptions { Metrics = false, Dashboard = false },
        };

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddActorGrid(options, grid => grid.WithKeyValue());
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            await KvBenchmark.WaitUntilUpAsync(system);
            var kv = ActorRegistry.For(system).Get<KvPartitionRegion>();
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

            Console.WriteLine($"kv metrics overhead: {writers} writers, {partitions} partitions, {keys} keys, {valueBytes}-byte values, {rounds} rounds of {seconds}s per side");
            Console.WriteLine("warm-up ...");
            for (var i = 0; i < 2; i++)
            {
                await KvBenchmark.MeasureAsync(PutKv, writers, keys, TimeSpan.FromSeconds(4));
                using var warm = StartMeterProvider(out _);
                await KvBenchmark.MeasureAsync(PutKv, writers, keys, TimeSpan.FromSeconds(4));
            }

            var rates = new Dictionary<string, List<double>> { ["off"] = [], ["on"] = [] };
            var cpu = new Dictionary<string, List<double>> { ["off"] = [], ["on"] = [] };
            var exported = 0;
            for (var round = 0; round < rounds; round++)
            {
                foreach (var side in round % 2 == 0 ? new[] { "off", "on" } : ["on", "off"])
                {
                    List<Metric>? metrics = null;
                    using var provider = side == "on" ? StartMeterProvider(out metrics) : null;
                    var cpuBefore = Bench.SelfCpu();
                    var watch = Stopwatch.StartNew();
                    var rate = await KvBenchmark.MeasureAsync(PutKv, writers, keys, TimeSpan.FromSeconds(seconds));
                    var cpuPerPut = (Bench.SelfCpu() - cpuBefore).TotalMicroseconds / (rate * watch.Elapsed.TotalSeconds);
                    provider?.ForceFlush();
                    exported = Math.Max(exported, metrics?.Select(m => m.Name).Distinct().Count() ?? 0);
                    rates[side].Add(rate);
                    cpu[side].Add(cpuPerPut);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1} metrics {side,-3}: {rate,9:N0} acked puts/s, {cpuPerPut,6:N1} µs CPU per put (whole process)"));
                }
            }

            var off = Bench.Median(rates["off"]);
            var on = Bench.Median(rates["on"]);
            Console.WriteLine();
            Console.WriteLine("| Metrics | Median acked puts/s | Median CPU µs per put | Rounds (puts/s) |");
            Console.WriteLine("|---|---:|---:|---|");
            foreach (var side in new[] { "off", "on" })
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {side} | {Bench.Median(rates[side]):N0} | {Bench.Median(cpu[side]):N1} | {string.Join(", ", rates[side].Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} |"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"\nthroughput with metrics = {on / off:P1} of without ({(1 - on / off):P1} overhead); {exported} metric streams collected every second"));
            return 0;
        }
        finally
        {
            await host.StopAsync();
            NodeProcess.TryDelete(dataDir);
        }
    }

    private static MeterProvider StartMeterProvider(out List<Metric> exported)
    {
        exported = [];
        return Sdk.CreateMeterProviderBuilder()
            .AddMeter([.. GridTelemetry.MeterNames])
            .AddRuntimeInstrumentation()
            .AddReader(new PeriodicExportingMetricReader(new InMemoryExporter<Metric>(exported), exportIntervalMilliseconds: 1000))
            .Build();
    }
}
