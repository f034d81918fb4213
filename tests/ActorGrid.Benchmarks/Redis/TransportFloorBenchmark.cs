#nullable enable
using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ActorGrid.Benchmarks.Kv;
using ActorGrid.Hosting;
using ActorGrid.TestKit.Processes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ActorGrid.Benchmarks.Redis;

/// <summary>
/// The floor under the GET targets: what Kestrel alone costs per request on this machine, against redis-server GET in
/// the same run. This process serves <c>GET /kv/{key}</c> from a minimal API with no middleware (a constant value) and a
/// RESP <see cref="ConnectionHandler"/> that answers every command with a constant bulk string (framing only, no parsing
/// or lookup); <c>wrk</c> and <c>redis-benchmark</c> drive them with the connections, value size and key range of
/// <c>kv-redis</c> and <c>resp</c>. Nothing ActorGrid does can make a GET cheaper than this floor. <c>--inline 1</c>
/// runs both endpoints as the node runs its Redis door with <c>ActorGrid:InlineIo</c> (socket completions and Kestrel
/// connections on the socket engine's threads); that must be chosen before the process opens its first socket, so one
/// run measures one setting.
/// </summary>
public static class TransportFloorBenchmark
{
    private const string Usage = "floor [--inline 0|1] [--seconds 6] [--requests 400000] [--rounds 3] [--connections 50] [--value-bytes 100] [--keys 10000]";

    /// <summary>Runs the comparison; see <see cref="Usage"/>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var inline = Bench.Option(args, "--inline", 0) == 1;
        var seconds = Bench.Option(args, "--seconds", 6);
        var requests = Bench.Option(args, "--requests", 400_000);
        var rounds = Bench.Option(args, "--rounds", 3);
        var connections = Bench.Option(args, "--connections", 50);
        var valueBytes = Bench.Option(args, "--value-bytes", 100);
        var keys = Bench.Option(args, "--keys", 10_000);
        if (!Bench.ToolsInstalled(Usage, "redis-server", "redis-benchmark", "wrk"))
        {
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (inline)
        {
            InlineIo.EnableSocketCompletions();
            builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        }

        var ports = FreePorts.Take(2);

        var value = new byte[valueBytes];
        Array.Fill(value, (byte)'x');
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenLocalhost(ports[0]);
            kestrel.ListenLocalhost(ports[1], listen => listen.Run(connection => ConstantResp.ServeAsync(connection, value)));
        });
        await using var app = builder.Build();
        app.MapGet("/kv/{**key}", () => Results.Bytes(value, "application/octet-stream"));
        await app.StartAsync();

        var work = Directory.CreateTempSubdirectory("actorgrid-floor-").FullName;
        try
        {
            await using var redis = await RedisServerProcess.StartAsync();
            var script = KvRedisBenchmark.WriteScript(work, "get.lua", KvRedisBenchmark.Lua("GET", keys, valueBytes, token: null));
            var url = $"http://127.0.0.1:{ports[0]}";
            Console.WriteLine($"floor: inline I/O {(inline ? "on" : "off")}; wrk -t2 -c {connections} {seconds}s rounds; redis-benchmark -c {connections} -d {valueBytes} -r {keys} -n {requests}; {rounds} rounds");
            // The load generators are waited for synchronously, on the thread pool: with inline completions this method
            // can resume on a socket thread, and blocking that one would stall the connections it serves.
            Task<RespBenchmark.Result> Redis(string test, int n) => Task.Run(() => RespBenchmark.RunRedisBenchmark(redis.Port, test, 1, connections, valueBytes, keys, n, () => redis.TotalProcessorTime));
            Task<RespBenchmark.Result> Resp(int n) => Task.Run(() => RespBenchmark.RunRedisBenchmark(ports[1], "get", 1, connections, valueBytes, keys, n, Bench.SelfCpu));
            Task<KvRedisBenchmark.Measurement> Http(int s) => Task.Run(() => KvRedisBenchmark.RunWrk(script, url, 2, connections, s, Bench.SelfCpu));

            Console.WriteLine("warm-up ...");
            await Redis("set", requests);
            await Resp(requests / 2);
            await Http(seconds);

            var results = new Dictionary<string, List<(double Rate, double Cpu)>> { ["redis GET"] = [], ["Kestrel RESP handler"] = [], ["Kestrel minimal API"] = [] };
            for (var round = 1; round <= rounds; round++)
            {
                var r = await Redis("get", requests);
                var k = await Resp(requests);
                var h = await Http(seconds);
                results["redis GET"].Add((r.Rate, r.CpuMicrosPerOp));
                results["Kestrel RESP handler"].Add((k.Rate, k.CpuMicrosPerOp));
                results["Kestrel minimal API"].Add((h.Rate, h.CpuMicrosPerOp));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  round {round}: redis GET {r.Rate:N0}/s ({r.CpuMicrosPerOp:0.0} us), RESP handler {k.Rate:N0}/s ({k.CpuMicrosPerOp:0.0} us), minimal API {h.Rate:N0}/s ({h.CpuMicrosPerOp:0.0} us)"));
            }

            Console.WriteLine();
            Console.WriteLine("| Server (inline I/O " + (inline ? "on" : "off") + ") | median ops/s | median server CPU µs per op | rounds (ops/s) |");
            Console.WriteLine("|---|---:|---:|---|");
            foreach (var (name, list) in results)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Bench.Median(list.Select(x => x.Rate)):N0} | {Bench.Median(list.Select(x => x.Cpu)):0.0} | {string.Join(", ", list.Select(x => x.Rate.ToString("N0", CultureInfo.InvariantCulture)))} |"));
            }

            var redisGet = Bench.Median(results["redis GET"].Select(x => x.Rate));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Kestrel RESP handler / redis GET = {Bench.Median(results["Kestrel RESP handler"].Select(x => x.Rate)) / redisGet:0.00}x"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Kestrel minimal API / redis GET  = {Bench.Median(results["Kestrel minimal API"].Select(x => x.Rate)) / redisGet:0.00}x"));
            return 0;
        }
        finally
        {
            await app.StopAsync();
            NodeProcess.TryDelete(work);
        }
    }

    /// <summary>Answers every complete RESP command (an array of bulk strings) with one constant bulk string (CONFIG: an empty array).</summary>
    private static class ConstantResp
    {
        public static async Task ServeAsync(ConnectionContext connection, byte[] value)
        {
            var answer = Encoding.ASCII.GetBytes($"${value.Length}\r\n").Concat(value).Concat("\r\n"u8.ToArray()).ToArray();
            var input = connection.Transport.Input;
            var output = connection.Transport.Output;
            while (true)
            {
                var read = await input.ReadAsync();
                var reader = new SequenceReader<byte>(read.Buffer);
                var consumed = read.Buffer.Start;
                while (TryCommand(ref reader, out var isConfig))
                {
                    // redis-benchmark asks CONFIG GET first: an empty array, as a server without those settings gives.
                    output.Write(isConfig ? "*0\r\n"u8 : answer);
                    consumed = reader.Position;
                }

                input.AdvanceTo(consumed, read.Buffer.End);
                await output.FlushAsync();
                if (read.IsCompleted)
                {
                    return;
                }
            }
        }

        private static bool TryCommand(ref SequenceReader<byte> reader, out bool isConfig)
        {
            isConfig = false;
            var start = reader;
            if (!reader.TryRead(out var star) || star != '*' || !TryLength(ref reader, out var count))
            {
                reader = start;
                return false;
            }

            for (var i = 0; i < count; i++)
            {
                if (!reader.TryRead(out var dollar) || dollar != '$' || !TryLength(ref reader, out var length) || reader.Remaining < length + 2)
                {
                    reader = start;
                    return false;
                }

                isConfig |= i == 0 && reader.IsNext((byte)'C');
                reader.Advance(length + 2);
            }

            return true;
        }

        private static bool TryLength(ref SequenceReader<byte> reader, out int length)
        {
            length = 0;
            if (!reader.TryReadTo(out ReadOnlySpan<byte> line, (byte)'\n'))
            {
                return false;
            }

            foreach (var b in line)
            {
                if (b is >= (byte)'0' and <= (byte)'9')
                {
                    length = length * 10 + (b - '0');
                }
            }

            return true;
        }
    }
}
