#nullable enable
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ActorGrid.Benchmarks.Redis;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Npgsql;

namespace ActorGrid.Benchmarks.Kv;

/// <summary>
/// What a new user would try: one Release ActorGrid node process, durable <c>PUT /kv/{key}</c> and <c>GET</c> over
/// HTTP driven by <c>wrk</c>, against <c>redis-server</c> with <c>appendonly yes</c> / <c>appendfsync always</c>
/// driven by <c>redis-benchmark</c> — same machine, same run, same connections, value size and key space, rounds
/// alternating (ABBA). Each side's server CPU time is read from /proc around every round, so the run also reports
/// CPU µs per acknowledged operation of the server process alone (the load generators are not counted).
/// </summary>
public static class KvRedisBenchmark
{
    private const string Usage =
        "kv-redis [--seconds 5] [--rounds 4] [--connections 50] [--value-bytes 100] [--keys 10000] [--threads 2] " +
        "[--postgres [connection string]] [--secure] [--nodes 1|2] [--node-arg ARG]... (needs redis-server, redis-benchmark and wrk: tests/ActorGrid.Benchmarks/setup.sh)";

    /// <summary>Runs the comparison; see <see cref="Usage"/> for the options.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Bench.Option(args, "--seconds", 5);
        var rounds = Bench.Option(args, "--rounds", 4);
        var connections = Bench.Option(args, "--connections", 50);
        var valueBytes = Bench.Option(args, "--value-bytes", 100);
        var keys = Bench.Option(args, "--keys", 10_000);
        var threads = Bench.Option(args, "--threads", 2);
        var nodeArgs = args.Select((a, i) => (a, i)).Where(p => p.a == "--node-arg" && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToList();
        var postgres = PostgresOption(args);
        // SPEC §11 on: remoting TLS from an in-process CA and a bearer token on every request (the cost of security).
        var secure = args.Contains("--secure");
        // Two nodes: wrk drives the first, about half the partitions live on the second, so about half the requests
        // cross remoting (with --secure: mutual TLS) — the cost of the hop and of TLS on it.
        var nodes = Bench.Option(args, "--nodes", 1);
        if (nodes is < 1 or > 2)
        {
            Console.Error.WriteLine($"--nodes must be 1 or 2. Usage: {Usage}");
            return 2;
        }

        if (!Bench.ToolsInstalled(Usage, "redis-server", "redis-benchmark", "wrk"))
        {
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("actorgrid-kv-redis-").FullName;
        string? schema = null;
        try
        {
            List<string> extra = [];
            if (postgres is not null)
            {
                schema = "bench_" + Guid.NewGuid().ToString("N")[..8];
                await ExecutePostgresAsync(postgres, $"CREATE SCHEMA \"{schema}\"");
                extra.AddRange(["--postgres", new NpgsqlConnectionStringBuilder(postgres) { SearchPath = schema }.ToString()]);
            }
            else
            {
                extra.AddRange(["--data", Path.Combine(work, "data")]); // shared by both nodes with --nodes 2
            }

            string? token = null;
            if (secure)
            {
                var tls = TestCertificateAuthority.Create("bench", Path.Combine(work, "tls")).Issue("bench-node");
                token = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
                var tokensFile = Path.Combine(work, "tokens");
                File.WriteAllText(tokensFile, $"{token} write:kv/bench/\n");
                extra.AddRange([
                    $"--ActorGrid:Security:Tls:Certificate={tls.Certificate}", $"--ActorGrid:Security:Tls:PrivateKey={tls.PrivateKey}",
                    $"--ActorGrid:Security:Tls:CaCertificate={tls.CaCertificate}", $"--ActorGrid:Security:TokensFile={tokensFile}"]);
            }

            extra.AddRange(nodeArgs);
            await using var redis = await RedisServerProcess.StartAsync();
            await using var node = NodeProcess.Start(new NodeProcessOptions { Name = "bench-node", ExtraArgs = extra });
            await node.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            await using var second = nodes == 2 ? NodeProcess.Start(new NodeProcessOptions { Name = "bench-node-2", ExtraArgs = extra, Seeds = [node.SeedAddress] }) : null;
            if (second is not null)
            {
                await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            }

            int[] pids = second is null ? [node.Pid] : [node.Pid, second.Pid];

            var journal = postgres is null ? "SQLite WAL, synchronous=FULL" : "PostgreSQL, synchronous_commit=on";
            Console.WriteLine($"kv-redis: {connections} connections, {valueBytes}-byte values, {keys} keys, {rounds} rounds of {seconds}s per side and operation");
            Console.WriteLine($"  ActorGrid: {NodeProcess.DefaultNodeAssembly} pid {string.Join(" + ", pids)} ({journal}), wrk -t{threads} -c{connections} on the first"
                              + (secure ? ", remoting mutual TLS, bearer token on every request" : ", no security (loopback)"));
            Console.WriteLine($"  redis:     redis-server pid {redis.Pid} (appendonly yes, appendfsync always), redis-benchmark -c {connections} -d {valueBytes} -r {keys}");

            var putScript = WriteScript(work, "put.lua", Lua("PUT", keys, valueBytes, token));
            var getScript = WriteScript(work, "get.lua", Lua("GET", keys, valueBytes, token));
            var url = node.HttpUri.ToString().TrimEnd('/');
            await PrefillAsync(node.HttpUri, keys, valueBytes, connections, token);

            Measurement Grid(string script, int s) => RunWrk(script, url, threads, connections, s, () => TimeSpan.FromTicks(pids.Sum(p => ProcessCpu(p).Ticks)));
            Measurement Redis(string test, int requests) => RunRedisBenchmark(redis, test, connections, valueBytes, keys, requests);

            // Warm-up: JIT tiering, the journal's connections, redis' AOF file; also sizes redis-benchmark's -n so
            // that its runs last about as long as wrk's.
            Console.WriteLine("warm-up ...");
            await Bench.WarmUntilJitQuietAsync(node.HttpUri, token, () =>
            {
                Grid(putScript, 3);
                Grid(getScript, 2);
            }, TimeSpan.FromSeconds(150));
            var redisSetRate = Redis("set", 50_000).Rate;
            var redisGetRate = Redis("get", 50_000).Rate;

            var results = new Dictionary<string, List<Measurement>>
            {
                ["ActorGrid PUT"] = [], ["ActorGrid GET"] = [], ["redis SET"] = [], ["redis GET"] = [],
            };
            for (var round = 0; round < rounds; round++)
            {
                var gridFirst = round % 4 is 0 or 3;
                foreach (var side in gridFirst ? new[] { "grid", "redis" } : ["redis", "grid"])
                {
                    if (side == "grid")
                    {
                        Record(results, "ActorGrid PUT", round, Grid(putScript, seconds));
                        Record(results, "ActorGrid GET", round, Grid(getScript, seconds));
                    }
                    else
                    {
                        var set = Record(results, "redis SET", round, Redis("set", (int)Math.Max(10_000, redisSetRate * seconds)));
                        redisSetRate = set.Rate;
                        var get = Record(results, "redis GET", round, Redis("get", (int)Math.Max(10_000, redisGetRate * seconds)));
                        redisGetRate = get.Rate;
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine($"| Side ({journal}) | median acked ops/s | median server CPU µs per op | p50 / p99 ms (median round) | rounds (ops/s) |");
            Console.WriteLine("|---|---:|---:|---|---|");
            foreach (var (name, list) in results)
            {
                var median = list.OrderBy(m => m.Rate).ElementAt(list.Count / 2);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Bench.Median(list.Select(m => m.Rate)):N0} | {Bench.Median(list.Select(m => m.CpuMicrosPerOp)):N1} | {median.P50Ms:0.00} / {median.P99Ms:0.00} | {string.Join(", ", list.Select(m => m.Rate.ToString("N0", CultureInfo.InvariantCulture)))} |"));
            }

            var putRatio = Bench.Median(results["ActorGrid PUT"].Select(m => m.Rate)) / Bench.Median(results["redis SET"].Select(m => m.Rate));
            var getRatio = Bench.Median(results["ActorGrid GET"].Select(m => m.Rate)) / Bench.Median(results["redis GET"].Select(m => m.Rate));
            var cpu = Bench.Median(results["ActorGrid PUT"].Select(m => m.CpuMicrosPerOp));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio ActorGrid / redis-server: durable PUT/SET {putRatio:0.00}x (target >= 0.5x), GET {getRatio:0.00}x (target >= 1.0x); ActorGrid CPU per acked put {cpu:0.0} µs (target <= 60 µs)"));
            Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
            return 0;
        }
        finally
        {
            if (schema is not null)
            {
                await ExecutePostgresAsync(postgres!, $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            }

            NodeProcess.TryDelete(work);
        }
    }

    private static Measurement Record(Dictionary<string, List<Measurement>> results, string name, int round, Measurement m)
    {
        results[name].Add(m);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  round {round + 1} {name,-14}: {m.Rate,9:N0} acked/s, {m.CpuMicrosPerOp,6:N1} µs server CPU per op, p50 {m.P50Ms:0.00} ms, p99 {m.P99Ms:0.00} ms{(m.Failed > 0 ? $", {m.Failed} FAILED" : string.Empty)}"));
        return m;
    }

    internal static Measurement RunWrk(string script, string url, int threads, int connections, int seconds, Func<TimeSpan> cpu)
    {
        var before = cpu();
        var output = Run("wrk", ["-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", seconds.ToString(CultureInfo.InvariantCulture) + "s", "--timeout", "10s", "-s", script, url]);
        var used = cpu() - before;
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("AGRESULT ", StringComparison.Ordinal))
                   ?? throw new InvalidOperationException("wrk printed no result:\n" + output);
        using var json = JsonDocument.Parse(line["AGRESULT ".Length..]);
        var root = json.RootElement;
        var requests = root.GetProperty("requests").GetInt64();
        var failed = root.GetProperty("failed").GetInt64();
        var acked = requests - failed;
        var duration = root.GetProperty("duration_us").GetInt64() / 1e6;
        return new Measurement(acked / duration, used.TotalMicroseconds / Math.Max(1, acked),
            root.GetProperty("p50_us").GetInt64() / 1000.0, root.GetProperty("p99_us").GetInt64() / 1000.0, failed);
    }

    private static Measurement RunRedisBenchmark(RedisServerProcess redis, string test, int connections, int valueBytes, int keys, int requests)
    {
        var before = redis.TotalProcessorTime;
        var output = Run("redis-benchmark", ["-h", "127.0.0.1", "-p", redis.Port.ToString(CultureInfo.InvariantCulture),
            "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", valueBytes.ToString(CultureInfo.InvariantCulture),
            "-r", keys.ToString(CultureInfo.InvariantCulture), "-n", requests.ToString(CultureInfo.InvariantCulture), "-t", test, "--csv"]);
        var used = redis.TotalProcessorTime - before;

        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        var row = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("\"" + test.ToUpperInvariant(), StringComparison.Ordinal))
                  ?? throw new InvalidOperationException("redis-benchmark printed no result:\n" + output);
        var cells = row.Split(',').Select(c => c.Trim('"')).ToArray();
        double Cell(int i) => double.Parse(cells[i], CultureInfo.InvariantCulture);
        return new Measurement(Cell(1), used.TotalMicroseconds / requests, Cell(4), Cell(6), 0);
    }

    // Every key exists before the first GET round, as redis' keys do after its first SET round.
    private static async Task PrefillAsync(Uri node, int keys, int valueBytes, int connections, string? token)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { BaseAddress = node, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        var value = new byte[valueBytes];
        Array.Fill(value, (byte)'x');
        // Partitions start (and the journal's tables appear) on first use: on a loaded machine the first writes can
        // outlast the ask timeout (503, "retry"). Wait for one acknowledged write before the prefill, and say so.
        var coldStart = Stopwatch.StartNew();
        var unavailable = 0;
        while (true)
        {
            using var first = await http.PutAsync(KeyPath(0), new ByteArrayContent(value));
            if (first.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            if (first.StatusCode != HttpStatusCode.ServiceUnavailable || coldStart.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"first PUT {KeyPath(0)} answered {(int)first.StatusCode} after {coldStart.Elapsed.TotalSeconds:0.0}s");
            }

            unavailable++;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  first acknowledged PUT after {coldStart.Elapsed.TotalSeconds:0.0}s ({unavailable} answers 503 while partitions started)"));
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < keys)
            {
                // A partition's first write waits for its shard to be allocated and the partition to recover; on a
                // busy machine that can outlast the node's ask timeout (503 with Retry-After): setup, so try again.
                for (var attempt = 1; ; attempt++)
                {
                    using var response = await http.PutAsync(KeyPath(i), new ByteArrayContent(value));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        break;
                    }

                    if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 10)
                    {
                        throw new InvalidOperationException($"prefill PUT {KeyPath(i)} answered {(int)response.StatusCode}");
                    }
                }
            }
        }));
    }

    private static string KeyPath(int i) => "kv/bench/" + i.ToString("D6", CultureInfo.InvariantCulture);

    // A wrk script: random keys out of `keys`, a constant body, and one machine-readable result line at the end.
    // Failed = any non-2xx answer or socket error, so "acked" counts only acknowledged (durable) operations.
    internal static string Lua(string method, int keys, int valueBytes, string? token) => string.Create(CultureInfo.InvariantCulture, $$"""
        local thread_no = 0
        function setup(thread)
          thread_no = thread_no + 1
          thread:set("seed", thread_no)
        end
        function init(args)
          math.randomseed(seed * 7919 + os.time())
          body = {{(method == "PUT" ? $"string.rep(\"x\", {valueBytes})" : "nil")}}
          headers = {{(token is null ? "nil" : $"{{ [\"Authorization\"] = \"Bearer {token}\" }}")}}
        end
        function request()
          return wrk.format("{{method}}", string.format("/kv/bench/%06d", math.random(0, {{keys - 1}})), headers, body)
        end
        function done(summary, latency, requests)
          local e = summary.errors
          io.write(string.format('AGRESULT {"requests":%d,"failed":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d}\n',
            summary.requests, e.status + e.connect + e.read + e.write + e.timeout, summary.duration,
            latency:percentile(50), latency:percentile(99)))
        end
        """);

    internal static string WriteScript(string directory, string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static TimeSpan ProcessCpu(int pid)
    {
        using var process = Process.GetProcessById(pid);
        return process.TotalProcessorTime;
    }

    internal static string Run(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? stdout : throw new InvalidOperationException($"{file} exited with {process.ExitCode}:\n{stdout}\n{stderr.Result}");
    }

    private static async Task ExecutePostgresAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    // --postgres alone takes ACTORGRID_TEST_POSTGRES; --postgres "<connection string>" that one.
    private static string? PostgresOption(string[] args)
    {
        var i = Array.IndexOf(args, "--postgres");
        if (i < 0)
        {
            return null;
        }

        return i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
            ? args[i + 1]
            : Environment.GetEnvironmentVariable("ACTORGRID_TEST_POSTGRES")
              ?? throw new InvalidOperationException("--postgres without a connection string needs ACTORGRID_TEST_POSTGRES");
    }

    internal readonly record struct Measurement(double Rate, double CpuMicrosPerOp, double P50Ms, double P99Ms, long Failed);
}
