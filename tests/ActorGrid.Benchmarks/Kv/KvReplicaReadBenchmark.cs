#nullable enable
using System.Diagnostics;
using System.Globalization;
using ActorGrid.Client;
using ActorGrid.Grid;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;

namespace ActorGrid.Benchmarks.Kv;

/// <summary>
/// The primary/replica read trade-off, measured: three in-process nodes over loopback remoting; one writer
/// keeps updating a few keys through node 0 while a reader on a node that does not own them alternates strong
/// and replica reads over HTTP. Reports read latency of each kind and how stale replica answers were (versions
/// behind the last acknowledged write, and the <c>X-ActorGrid-Staleness</c> header).
/// </summary>
public static class KvReplicaReadBenchmark
{
    /// <summary>Runs the measurement. Options: --seconds S, --write-rate N (writes/s), --keys K.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Bench.Option(args, "--seconds", 10);
        var writeRate = Bench.Option(args, "--write-rate", 200);
        var keyCount = Bench.Option(args, "--keys", 4);
        const int partitions = 16;

        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue(), new GridTestClusterOptions
        {
            Configure = (_, o) => o with { Kv = o.Kv with { Partitions = partitions } },
        });

        // Keys whose partitions do not live on the reader's node, so strong reads cross the network.
        for (var i = 0; i < 64; i++)
        {
            await cluster[0].Client.Kv.PutAsync("warm/" + i, "w");
        }

        var reader = cluster[2];
        var placement = (await cluster[0].Client.Cluster.GetShardsAsync()).Regions.Single(r => r.Role == "kv").Shards.ToDictionary(s => s.ShardId, s => s.Node);
        var extractor = new GridMessageExtractor(partitions);
        var keys = Enumerable.Range(0, 1000).Select(i => "replica/" + i)
            .Where(k => placement.TryGetValue(extractor.ShardId(KvKeys.EntityIdFor(k, partitions), null)!, out var node) && node != reader.Address.ToString())
            .Take(keyCount).ToArray();

        var acked = new long[keys.Length];
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            acked[i] = (await cluster[0].Client.Kv.PutAsync(key, "0")).Version;
            await reader.Client.Kv.GetAsync(key, KvConsistency.Replica); // start following
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var writer = Task.Run(async () =>
        {
            var interval = TimeSpan.FromSeconds(1.0 / writeRate);
            var next = Stopwatch.StartNew();
            var n = 0L;
            while (!stop.IsCancellationRequested)
            {
                var i = (int)(n++ % keys.Length);
                var result = await cluster[0].Client.Kv.PutAsync(keys[i], n.ToString(CultureInfo.InvariantCulture));
                Interlocked.Exchange(ref acked[i], result.Version);
                var wait = interval * n - next.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }
            }
        });

        var strong = new List<double>();
        var replica = new List<double>();
        var behind = new List<long>();
        var headerMs = new List<long>();
        var r = 0;
        while (!stop.IsCancellationRequested)
        {
            var i = r++ % keys.Length;
            var before = Interlocked.Read(ref acked[i]);
            var watch = Stopwatch.StartNew();
            var consistency = r % 2 == 0 ? KvConsistency.Strong : KvConsistency.Replica;
            var value = await reader.Client.Kv.GetAsync(keys[i], consistency);
            watch.Stop();
            if (consistency == KvConsistency.Strong)
            {
                strong.Add(watch.Elapsed.TotalMilliseconds);
            }
            else
            {
                replica.Add(watch.Elapsed.TotalMilliseconds);
                behind.Add(Math.Max(0, before - value!.Version));
                headerMs.Add(long.Parse(value.Staleness!.Split(',')[0]["ms=".Length..], CultureInfo.InvariantCulture));
            }
        }

        await writer;
        Console.WriteLine($"replica read trade-off: 3 in-process nodes, writer on node0 at ~{writeRate} writes/s over {keys.Length} keys, reader on node2 (not the owner), {seconds}s");
        Console.WriteLine("| Read | Count | p50 ms | p99 ms | stale answers | max versions behind | staleness header p50 / p99 / max (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| strong | {strong.Count} | {P(strong, 50):0.00} | {P(strong, 99):0.00} | 0 | 0 | - |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| replica | {replica.Count} | {P(replica, 50):0.00} | {P(replica, 99):0.00} | {behind.Count(b => b > 0) * 100.0 / behind.Count:0.0}% | {behind.DefaultIfEmpty().Max()} | {P(headerMs.Select(h => (double)h).ToList(), 50):0} / {P(headerMs.Select(h => (double)h).ToList(), 99):0} / {headerMs.DefaultIfEmpty().Max()} |"));
        return 0;
    }

    private static double P(List<double> values, int percentile)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }
}
