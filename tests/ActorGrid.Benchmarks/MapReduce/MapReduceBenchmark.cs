#nullable enable
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ActorGrid.Client;
using ActorGrid.Contracts;
using ActorGrid.KeyValue;
using ActorGrid.MapReduce;
using ActorGrid.MapReduce.Jobs;
using ActorGrid.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Benchmarks.MapReduce;

/// <summary>
/// Word count throughput on a two-node grid (both nodes in this process, sharing its cores and one SQLite journal)
/// over documents stored in the KV store, against a single-threaded C# loop and PLINQ over the same documents (the
/// same bytes, the same word rule and counting code) in the same run. Rounds alternate the three so that drift on
/// a shared machine hits all alike; medians are compared. Every result is checked against the single-threaded one.
/// </summary>
public static class MapReduceBenchmark
{
    /// <summary>
    /// Runs the benchmark. Options: --mb M (input size), --doc-kb K, --rounds R, --reducers N, --partitions P,
    /// --slots S and --splits-per-node T (MapReduce settings; default: the role's defaults), --output (also write the
    /// result to KV).
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var megabytes = Bench.Option(args, "--mb", 64);
        var documentKb = Bench.Option(args, "--doc-kb", 64);
        var rounds = Bench.Option(args, "--rounds", 3);
        var reducers = Bench.Option(args, "--reducers", 4);
        var partitions = Bench.Option(args, "--partitions", 64);
        var writeOutput = args.Contains("--output");
        var settings = MapReduceProtocol.Settings.Default(Environment.ProcessorCount);
        settings = settings with
        {
            MapSlotsPerNode = Bench.Option(args, "--slots", settings.MapSlotsPerNode),
            WorkerConcurrency = Bench.Option(args, "--slots", settings.WorkerConcurrency),
            KvSplitsPerNode = Bench.Option(args, "--splits-per-node", settings.KvSplitsPerNode),
        };

        Console.WriteLine($"mapreduce benchmark: word count over {megabytes} MB in {documentKb} KB documents, 2 nodes in one process, "
                          + $"{Environment.ProcessorCount} cores, {partitions} KV partitions, {reducers} reducers, {settings.MapSlotsPerNode} map slots and {settings.KvSplitsPerNode} splits per node, "
                          + $"{rounds} rounds, output {(writeOutput ? "to KV and the job result" : "to the job result")}");
        var documents = Corpus(megabytes * 1_000_000L, documentKb * 1024);
        var bytes = documents.Sum(d => (long)d.Length);

        await using var cluster = await GridTestCluster.StartAsync(
            2,
            grid => grid.WithKeyValue().WithMapReduce(settings: settings),
            new GridTestClusterOptions
            {
                Configure = (_, options) => options with { Kv = options.Kv with { Partitions = partitions } },
                Timeout = TimeSpan.FromSeconds(60),
            });

        var load = Stopwatch.StartNew();
        await StoreAsync(cluster.Nodes[0].Services.GetRequiredService<IKeyValueStore>(), documents);
        Console.WriteLine($"stored {documents.Count} documents ({bytes / 1e6:0.0} MB) in KV in {load.Elapsed.TotalSeconds:0.0}s (not measured)");

        var reference = SingleThreaded(documents);
        var client = cluster.Nodes[0].Client.Jobs;
        var request = new JobRequest(WordCountJob.Name, JobInput.FromKvPrefix("bench/"), writeOutput ? new JobOutput("bench-out/") : null, reducers);

        // JIT tiering and the journal's connection pools need a while: every side gets the same warm-up.
        Console.WriteLine("warm-up ...");
        for (var i = 0; i < 2; i++)
        {
            Check(reference, SingleThreaded(documents), "single-threaded");
            Check(reference, PlinqCount(documents), "PLINQ");
            var (warmId, _, _) = await RunJobAsync(client, request);
            Check(reference, await ResultAsync(client, warmId), "grid");
        }

        var single = new List<double>();
        var plinq = new List<double>();
        var grid = new List<double>();
        var gridServer = new List<double>();
        var (singleCpu, plinqCpu, gridCpu) = (new List<double>(), new List<double>(), new List<double>());
        var process = Process.GetCurrentProcess();
        for (var round = 0; round < rounds; round++)
        {
            // Rotating the order spreads drift on a shared machine over all three.
            foreach (var side in Enumerable.Range(round, 3).Select(i => i % 3))
            {
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                switch (side)
                {
                    case 0:
                        Check(reference, SingleThreaded(documents), "single-threaded");
                        single.Add(clock.Elapsed.TotalSeconds);
                        break;
                    case 1:
                        Check(reference, PlinqCount(documents), "PLINQ");
                        plinq.Add(clock.Elapsed.TotalSeconds);
                        break;
                    default:
                        var (jobId, wall, server) = await RunJobAsync(client, request);
                        grid.Add(wall);
                        gridServer.Add(server);
                        process.Refresh();
                        gridCpu.Add((process.TotalProcessorTime - cpu).TotalSeconds);
                        Check(reference, await ResultAsync(client, jobId), "grid");
                        var status = await client.GetAsync(jobId);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  grid job: {status.Progress.MapTasks.Total} map tasks ({status.Counter("dataLocalMapTasks")} data-local), {status.Counter("mapAttempts")} attempts, {status.Counter("combineOutputRecords")} pairs shuffled, server-side {server:0.00}s"));
                        continue;
                }

                process.Refresh();
                (side == 0 ? singleCpu : plinqCpu).Add((process.TotalProcessorTime - cpu).TotalSeconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round + 1}: single {Rate(bytes, single[^1])}  PLINQ {Rate(bytes, plinq[^1])}  grid {Rate(bytes, grid[^1])}   CPU s: {singleCpu[^1]:0.00} / {plinqCpu[^1]:0.00} / {gridCpu[^1]:0.00}"));
        }

        var (s, p, g) = (Bench.Median(single), Bench.Median(plinq), Bench.Median(grid));
        Console.WriteLine();
        Console.WriteLine($"| Word count over {bytes / 1e6:0.0} MB | median time | MB/s | median CPU time |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| single-threaded C# | {s:0.00} s | {bytes / 1e6 / s:0.0} | {Bench.Median(singleCpu):0.00} s |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| PLINQ ({Environment.ProcessorCount} cores) | {p:0.00} s | {bytes / 1e6 / p:0.0} | {Bench.Median(plinqCpu):0.00} s |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| ActorGrid, 2 nodes (submit → completed) | {g:0.00} s | {bytes / 1e6 / g:0.0} | {Bench.Median(gridCpu):0.00} s |"));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"grid / single-threaded = {s / g:0.00}x   grid / PLINQ = {p / g:0.00}x   (server-side job time median {Bench.Median(gridServer):0.00}s)"));
        return 0;
    }

    /// <summary>The baseline: one thread, the same decoding, word rule and counting into a dictionary as the job.</summary>
    private static Dictionary<string, long> SingleThreaded(IReadOnlyList<byte[]> documents)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            Count(document, counts);
        }

        return counts;
    }

    /// <summary>PLINQ at its best for this: a dictionary per worker thread, merged at the end.</summary>
    private static Dictionary<string, long> PlinqCount(IReadOnlyList<byte[]> documents) =>
        documents.AsParallel().Aggregate(
            () => new Dictionary<string, long>(StringComparer.Ordinal),
            (counts, document) =>
            {
                Count(document, counts);
                return counts;
            },
            (left, right) =>
            {
                foreach (var (word, count) in right)
                {
                    left[word] = left.GetValueOrDefault(word) + count;
                }

                return left;
            },
            counts => counts);

    private static void Count(byte[] document, Dictionary<string, long> counts)
    {
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        Words.ForEachInUtf8(document, lookup, static (l, word) =>
        {
            if (l.TryGetValue(word, out var count))
            {
                l[word] = count + 1;
            }
            else
            {
                l[word] = 1;
            }
        });
    }

    private static async Task<(string JobId, double Wall, double Server)> RunJobAsync(IJobsClient client, JobRequest request)
    {
        var clock = Stopwatch.StartNew();
        var jobId = await client.SubmitAsync(request);
        var status = await client.WaitAsync(jobId, pollInterval: TimeSpan.FromMilliseconds(20));
        var wall = clock.Elapsed.TotalSeconds;
        if (status.State != "Completed")
        {
            throw new InvalidOperationException($"job {jobId} ended {status.State}: {status.Error}");
        }

        return (jobId, wall, (status.FinishedAt!.Value - status.SubmittedAt!.Value).TotalSeconds);
    }

    private static async Task<Dictionary<string, long>> ResultAsync(IJobsClient client, string jobId)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var item in client.ReadResultAsync(jobId))
        {
            result.Add(item.Key, long.Parse(item.Value, CultureInfo.InvariantCulture));
        }

        return result;
    }

    private static void Check(Dictionary<string, long> expected, Dictionary<string, long> actual, string what)
    {
        if (expected.Count != actual.Count || expected.Any(e => actual.GetValueOrDefault(e.Key) != e.Value))
        {
            throw new InvalidOperationException($"{what} counted differently: {actual.Count} words instead of {expected.Count}");
        }
    }

    private static async Task StoreAsync(IKeyValueStore store, IReadOnlyList<byte[]> documents)
    {
        var entries = documents.Select((d, i) => new KvEntry("bench/" + i.ToString("D6", CultureInfo.InvariantCulture), d)).ToList();
        foreach (var batch in entries.Chunk(32))
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await store.PutManyAsync(batch);
                    break;
                }
                catch (Exception e) when (attempt < 10 && e is Akka.Actor.AskTimeoutException or InvalidOperationException)
                {
                    // Partitions are still being placed right after start.
                }
            }
        }
    }

    /// <summary>Deterministic English-like text: a Zipf-distributed vocabulary of 50 000 words, mixed case and punctuation.</summary>
    private static List<byte[]> Corpus(long bytes, int documentBytes)
    {
        var random = new Random(2024);
        var vocabulary = Enumerable.Range(0, 50_000).Select(_ =>
        {
            var length = 2 + (int)Math.Min(12, -Math.Log(1 - random.NextDouble()) * 4);
            return string.Create(length, random, static (span, r) =>
            {
                for (var i = 0; i < span.Length; i++)
                {
                    span[i] = (char)('a' + r.Next(26));
                }
            });
        }).ToArray();
        var documents = new List<byte[]>();
        var text = new StringBuilder(documentBytes + 64);
        long total = 0;
        while (total < bytes)
        {
            text.Clear();
            while (text.Length < documentBytes)
            {
                var word = vocabulary[(int)Math.Min(vocabulary.Length - 1, Math.Pow(vocabulary.Length, random.NextDouble()) - 1)];
                text.Append(random.Next(8) == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : word);
                text.Append(random.Next(14) switch { 0 => ". ", 1 => ", ", 2 => "\n", _ => " " });
            }

            var document = Encoding.UTF8.GetBytes(text.ToString());
            documents.Add(document);
            total += document.Length;
        }

        return documents;
    }

    private static string Rate(long bytes, double seconds) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6 / seconds,6:0.0} MB/s");
}
