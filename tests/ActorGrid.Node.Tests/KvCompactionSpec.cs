using System.Globalization;
using System.Net;
using System.Text.Json;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace ActorGrid.Node.Tests;

/// <summary>
/// KV compaction in a real node process (issue 14): many keys written with <c>ttl=1</c> expire, and after the grace
/// period (five seconds here) they are purged: <c>/cluster/shards</c> reports keys and tombstones back at about 0,
/// the snapshots shrink back, and a second wave as large fits in the memory the first one left (the collector
/// does not give memory back to the OS at once, so the node's resident size is checked for growth, not for a fall).
/// 20,000 keys by default (the README's test run); <c>ACTORGRID_COMPACTION_KEYS=200000</c> for the full size.
/// </summary>
public sealed class KvCompactionSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Expired_keys_are_purged_from_memory_snapshots_and_the_shard_report()
    {
        var keys = int.TryParse(Environment.GetEnvironmentVariable("ACTORGRID_COMPACTION_KEYS"), CultureInfo.InvariantCulture, out var n) ? n : 20_000;
        var data = Path.Combine(Path.GetTempPath(), "actorgrid-compaction", Guid.NewGuid().ToString("N")[..12]);
        var node = NodeProcess.Start(new NodeProcessOptions
        {
            Name = "compaction",
            DataDir = data,
            ExtraArgs = ["--ActorGrid:Kv:Partitions=16", "--ActorGrid:Kv:TombstoneGracePeriod=00:00:05", "--ActorGrid:Persistence:SnapshotEvery=5000"],
        });
        using var http = new HttpClient { BaseAddress = node.HttpUri, Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            await node.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            using (var warm = await http.PutAsync("kv/warm", new ByteArrayContent([1])))
            {
                Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
            }

            // Two waves of keys, half each: the second must fit in the memory the first one's purged keys left.
            var startMemory = ResidentBytes(node.Pid);
            var startHeap = await HeapAfterFullCollectionAsync(http, node.Pid);
            var first = await WaveAsync(http, node, data, 0, keys / 2);
            var second = await WaveAsync(http, node, data, keys / 2, keys - keys / 2);
            var endHeap = await HeapAfterFullCollectionAsync(http, node.Pid);
            output.WriteLine($"memory {Mb(startMemory)}, GC heap {Mb(startHeap)} at start (after a full collection); wave 1: {first}; wave 2: {second}; GC heap {Mb(endHeap)} at the end (after a full collection)");
            Assert.True(second.PeakMemory <= first.PeakMemory + (first.PeakMemory - startMemory) / 2 + 32 * 1024 * 1024,
                $"the second wave grew the node's memory past what the first freed: {Mb(startMemory)} -> {Mb(first.PeakMemory)} -> {Mb(second.PeakMemory)}");
            // What the purged keys held is garbage now: a full collection gives the heap back near where it started.
            Assert.True(endHeap <= startHeap + Math.Max(8L * 1024 * 1024, startHeap / 2),
                $"the managed heap did not fall back after compaction: {Mb(startHeap)} at start, {Mb(Math.Max(first.PeakHeap, second.PeakHeap))} at peak, {Mb(endHeap)} after a full collection");

            using var read = await http.GetAsync("kv/ttl/0000001");
            Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
            using var again = await http.PutAsync("kv/ttl/0000001", new ByteArrayContent([7]));
            var version = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt64();
            Assert.True(version > 1, $"a purged key written again continues its version count (got {version})");
        }
        catch
        {
            output.WriteLine(node.Diagnostics(100));
            throw;
        }
        finally
        {
            await node.DisposeAsync();
            NodeProcess.TryDelete(data);
        }
    }

    private sealed record Wave(int Keys, int Retried, TimeSpan Written, long PeakHeld, long PeakMemory, long PeakHeap, TimeSpan Purged, long PeakSnapshots, long Snapshots, long Heap)
    {
        public override string ToString() =>
            $"{Keys} keys written in {Written.TotalSeconds:0.0}s ({Retried} retried after a 503), at most {PeakHeld} keys+tombstones held, memory peak {Mb(PeakMemory)}, "
            + $"GC heap peak {Mb(PeakHeap)}, purged {Purged.TotalSeconds:0.0}s after the last write, snapshots {PeakSnapshots} -> {Snapshots} bytes, "
            + $"GC heap {Mb(Heap)} after";
    }

    /// <summary>Writes <paramref name="count"/> keys with ttl=1 and waits until compaction has purged them all.</summary>
    private static async Task<Wave> WaveAsync(HttpClient http, NodeProcess node, string data, int from, int count)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var next = from - 1;
        long peakHeld = 0, peakMemory = 0, peakHeap = 0, peakSnapshots = 0;
        var retried = 0;
        using var done = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                var held = await ShardTotalsAsync(http);
                peakHeld = Math.Max(peakHeld, held.Keys + held.Tombstones);
                peakMemory = Math.Max(peakMemory, ResidentBytes(node.Pid));
                peakHeap = Math.Max(peakHeap, await HeapBytesAsync(http));
                peakSnapshots = Math.Max(peakSnapshots, SnapshotBytes(data));
                await Task.Delay(500, CancellationToken.None);
            }
        });
        await Task.WhenAll(Enumerable.Range(0, 48).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < from + count; i = Interlocked.Increment(ref next))
            {
                // A node short of CPU (2 cores shared with other work) may answer 503 with Retry-After: retry, a few times.
                for (var attempt = 1; ; attempt++)
                {
                    using var put = await http.PutAsync($"kv/ttl/{i:D7}?ttl=1", new ByteArrayContent(BitConverter.GetBytes((long)i)));
                    if (put.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 4 && put.Headers.RetryAfter?.Delta is { } wait)
                    {
                        Interlocked.Increment(ref retried);
                        await Task.Delay(wait);
                        continue;
                    }

                    Assert.Equal(HttpStatusCode.OK, put.StatusCode);
                    break;
                }
            }
        }));
        var written = clock.Elapsed;
        await Eventually.AwaitAsync(async () =>
        {
            var held = await ShardTotalsAsync(http);
            return held.Keys <= 1 && held.Tombstones == 0 ? null : $"keys {held.Keys}, tombstones {held.Tombstones}, bytes {held.Bytes}";
        }, TimeSpan.FromSeconds(60), "compaction to purge the expired keys");
        var purged = clock.Elapsed - written;
        await done.CancelAsync();
        await watcher;

        long snapshots = 0;
        await Eventually.AwaitAsync(() =>
        {
            snapshots = SnapshotBytes(data);
            return snapshots <= 512 * 1024 ? null : $"snapshots hold {snapshots} bytes (peak {peakSnapshots})";
        }, TimeSpan.FromSeconds(30), "the snapshots to shrink back");
        Assert.True(peakHeld > count / 10, $"the shard report never showed the keys ({peakHeld} at most)");
        return new Wave(count, retried, written, peakHeld, peakMemory, peakHeap, purged, peakSnapshots, snapshots, await HeapBytesAsync(http));
    }

    private static async Task<(long Keys, long Tombstones, long Bytes)> ShardTotalsAsync(HttpClient http)
    {
        using var response = await http.GetAsync("cluster/shards");
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var kv = root.GetProperty("regions").EnumerateArray().Single(r => r.GetProperty("typeName").GetString() == "kv");
        long keys = 0, tombstones = 0, bytes = 0;
        foreach (var shard in kv.GetProperty("shards").EnumerateArray())
        {
            keys += shard.TryGetProperty("keys", out var k) ? k.GetInt64() : 0;
            tombstones += shard.TryGetProperty("tombstones", out var t) ? t.GetInt64() : 0;
            bytes += shard.TryGetProperty("bytes", out var b) ? b.GetInt64() : 0;
        }

        return (keys, tombstones, bytes);
    }

    /// <summary>
    /// The node's managed heap after a full, blocking collection it is made to run now, as <c>dotnet-gcdump</c> does:
    /// an EventPipe session with the runtime's GC-heap-collect keyword induces one (server GC would otherwise leave
    /// the purged keys' garbage in gen 2 until it needs the room).
    /// </summary>
    private static async Task<long> HeapAfterFullCollectionAsync(HttpClient http, int pid)
    {
        var before = await Gen2CollectionsAsync(http);
        const long GcKeyword = 0x1, GcHeapCollectKeyword = 0x800000;
        var client = new Microsoft.Diagnostics.NETCore.Client.DiagnosticsClient(pid);
        using var session = client.StartEventPipeSession(
            new Microsoft.Diagnostics.NETCore.Client.EventPipeProvider("Microsoft-Windows-DotNETRuntime", System.Diagnostics.Tracing.EventLevel.Informational, GcKeyword | GcHeapCollectKeyword),
            requestRundown: false);
        var drained = session.EventStream.CopyToAsync(Stream.Null);
        await Eventually.AwaitAsync(async () => await Gen2CollectionsAsync(http) > before ? null : "no gen 2 collection yet",
            TimeSpan.FromSeconds(30), "the induced full collection");
        await session.StopAsync(CancellationToken.None);
        await drained;
        return await HeapBytesAsync(http);
    }

    private static async Task<long> Gen2CollectionsAsync(HttpClient http)
    {
        var metrics = await http.GetStringAsync("metrics");
        return metrics.Split('\n')
            .Where(line => line.StartsWith("dotnet_gc_collections_total{", StringComparison.Ordinal) && line.Contains("gen2", StringComparison.Ordinal))
            .Sum(line => (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>The node's managed heap after its last collection (<c>dotnet_gc_last_collection_heap_size_bytes</c>, all generations).</summary>
    private static async Task<long> HeapBytesAsync(HttpClient http)
    {
        var metrics = await http.GetStringAsync("metrics");
        return metrics.Split('\n')
            .Where(line => line.StartsWith("dotnet_gc_last_collection_heap_size_bytes{", StringComparison.Ordinal))
            .Sum(line => (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private static long SnapshotBytes(string data)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "actorgrid.db")};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(SUM(LENGTH(snapshot)), 0) FROM snapshot WHERE persistence_id LIKE 'kv-%'";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024):0} MB";
}
