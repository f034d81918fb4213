#nullable enable
using System.Diagnostics;
using System.Globalization;
using ActorGrid.Benchmarks.Kv;
using ActorGrid.TestKit.Processes;

namespace ActorGrid.Benchmarks.Redis;

/// <summary>
/// The Redis front door against <c>redis-server</c> (<c>appendonly yes</c>, <c>appendfsync always</c>), both
/// driven by the same <c>redis-benchmark</c> in the same run: GET, SET, INCR, MSET (10 keys) and XADD, 50 clients,
/// 100-byte values, without and with pipelining (<c>-P 16</c>), rounds alternating sides (ABBA). One Release
/// ActorGrid node process with all roles and its SQLite journal; every ActorGrid SET is durable before its reply,
/// as every redis-server SET is fsynced first.
/// </summary>
public static class RespBenchmark
{
    private const string Usage = "resp [--requests 100000] [--rounds 2] [--connections 50] [--value-bytes 100] [--keys 10000] [--tests get,set,incr,mset,xadd] [--node-arg ARG]...";

    /// <summary>Runs the comparison; see <see cref="Usage"/>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var requests = Bench.Option(args, "--requests", 100_000);
        var rounds = Bench.Option(args, "--rounds", 2);
        var connections = Bench.Option(args, "--connections", 50);
        var valueBytes = Bench.Option(args, "--value-bytes", 100);
        var keys = Bench.Option(args, "--keys", 10_000);
        var testsAt = Array.IndexOf(args, "--tests");
        var tests = testsAt >= 0 && testsAt + 1 < args.Length ? args[testsAt + 1].Split(',') : ["get", "set", "incr", "mset", "xadd"];
        var nodeArgs = args.Select((a, i) => (a, i)).Where(p => p.a == "--node-arg" && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToList();
        if (!Bench.ToolsInstalled(Usage, "redis-server", "redis-benchmark"))
        {
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("actorgrid-resp-").FullName;
        try
        {
            await using var redis = await RedisServerProcess.StartAsync();
            await using var node = NodeProcess.Start(new NodeProcessOptions { Name = "bench-node", ExtraArgs = ["--data", Path.Combine(work, "data"), .. nodeArgs] });
            await node.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            Console.WriteLine($"resp: redis-benchmark -c {connections} -d {valueBytes} -r {keys}, {requests} requests per test (x4 pipelined), {rounds} rounds per side");
            Console.WriteLine($"  ActorGrid: {NodeProcess.DefaultNodeAssembly} pid {node.Pid} on RESP port {node.RespPort} (SQLite WAL journal)");
            Console.WriteLine($"  redis:     redis-server pid {redis.Pid} on port {redis.Port} (appendonly yes, appendfsync always)");

            Result Grid(string test, int pipeline, int n) => RunRedisBenchmark(node.RespPort, test, pipeline, connections, valueBytes, keys, n, () => Cpu(node.Pid));
            Result Redis(string test, int pipeline, int n) => RunRedisBenchmark(redis.Port, test, pipeline, connections, valueBytes, keys, n, () => redis.TotalProcessorTime);

            // Warm-up: every partition started (recovery from the journal outlasts one ask on a busy machine), JIT
            // tiering, and every key of the GET runs written on both sides.
            Console.WriteLine("warm-up ...");
            await TestKit.Eventually.AwaitAsync(async () =>
            {
                var failed = 0;
                await Task.WhenAll(Enumerable.Range(0, 256).Select(async i =>
                {
                    try
                    {
                        await node.Client.Kv.PutAsync("warm-up/" + i.ToString(CultureInfo.InvariantCulture), "1");
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ActorGrid.Client.ActorGridException)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }));
                return failed == 0 ? null : $"{failed} of 256 warm-up writes failed";
            }, TimeSpan.FromSeconds(120), "every partition to accept writes");
            foreach (var test in new[] { "set", "get", "incr", "xadd" })
            {
                Redis(test, 16, keys * 4);
            }

            await Bench.WarmUntilJitQuietAsync(node.HttpUri, token: null, () =>
            {
                foreach (var test in new[] { "set", "get", "incr", "xadd" })
                {
                    Grid(test, 16, keys * 4);
                    Grid(test, 1, keys);
                }
            }, TimeSpan.FromSeconds(150));

            var results = new List<(string Test, int Pipeline, string Side, Result Result)>();
            foreach (var pipeline in new[] { 1, 16 })
            {
                foreach (var test in tests)
                {
                    var n = pipeline == 1 ? requests : requests * 4;
                    for (var round = 0; round < rounds; round++)
                    {
                        foreach (var side in round % 2 == 0 ? new[] { "ActorGrid", "redis" } : ["redis", "ActorGrid"])
                        {
                            var result = side == "ActorGrid" ? Grid(test, pipeline, n) : Redis(test, pipeline, n);
                            results.Add((test, pipeline, side, result));
                            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"  {test,-5} -P {pipeline,-2} {side,-9}: {result.Rate,10:N0} ops/s, p50 {result.P50Ms:0.00} ms, p99 {result.P99Ms:0.00} ms, {result.CpuMicrosPerOp:0.0} µs server CPU per op"));
                        }
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine("| Test | Pipeline | ActorGrid ops/s | redis-server ops/s | ratio | ActorGrid p50 / p99 ms | redis p50 / p99 ms | ActorGrid CPU µs/op |");
            Console.WriteLine("|---|---:|---:|---:|---:|---|---|---:|");
            foreach (var group in results.GroupBy(r => (r.Test, r.Pipeline)))
            {
                var grid = group.Where(r => r.Side == "ActorGrid").Select(r => r.Result).ToList();
                var red = group.Where(r => r.Side == "redis").Select(r => r.Result).ToList();
                var gridRate = Bench.Median(grid.Select(r => r.Rate));
                var redisRate = Bench.Median(red.Select(r => r.Rate));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {group.Key.Test.ToUpperInvariant()} | {(group.Key.Pipeline == 1 ? "none" : "-P " + group.Key.Pipeline)} | {gridRate:N0} | {redisRate:N0} | {gridRate / redisRate:0.00}x | {Bench.Median(grid.Select(r => r.P50Ms)):0.00} / {Bench.Median(grid.Select(r => r.P99Ms)):0.00} | {Bench.Median(red.Select(r => r.P50Ms)):0.00} / {Bench.Median(red.Select(r => r.P99Ms)):0.00} | {Bench.Median(grid.Select(r => r.CpuMicrosPerOp)):0.0} |"));
            }

            Console.WriteLine();
            Console.WriteLine("targets: GET >= 1.0x, durable SET >= 0.5x (no pipelining)");
            Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
            return 0;
        }
        finally
        {
            NodeProcess.TryDelete(work);
        }
    }

    internal static Result RunRedisBenchmark(int port, string test, int pipeline, int connections, int valueBytes, int keys, int requests, Func<TimeSpan> cpu)
    {
        List<string> args =
        [
            "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", valueBytes.ToString(CultureInfo.InvariantCulture), "-r", keys.ToString(CultureInfo.InvariantCulture),
            "-n", requests.ToString(CultureInfo.InvariantCulture), "-P", pipeline.ToString(CultureInfo.InvariantCulture), "--csv",
        ];

        // redis-benchmark 7.0 has no built-in XADD test: the same command as a custom one, with a value of -d bytes.
        args.AddRange(test == "xadd" ? ["XADD", "bench-stream", "*", "payload", new string('x', valueBytes)] : ["-t", test]);
        var before = cpu();
        var output = KvRedisBenchmark.Run("redis-benchmark", args);
        var used = cpu() - before;

        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        var row = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith('"') && !l.StartsWith("\"test\"", StringComparison.Ordinal))
                  ?? throw new InvalidOperationException("redis-benchmark printed no result:\n" + output);
        var cells = row.Split("\",\"").Select(c => c.Trim('"')).ToArray();
        double Cell(int i) => double.Parse(cells[i], CultureInfo.InvariantCulture);
        return new Result(Cell(1), Cell(4), Cell(6), used.TotalMicroseconds / requests);
    }

    private static TimeSpan Cpu(int pid)
    {
        using var process = Process.GetProcessById(pid);
        return process.TotalProcessorTime;
    }

    internal readonly record struct Result(double Rate, double P50Ms, double P99Ms, double CpuMicrosPerOp);
}
