using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using ActorGrid.Broker;
using ActorGrid.Contracts;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Histories;
using ActorGrid.TestKit.Processes;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ActorGrid.Resp.Tests;

/// <summary>
/// StackExchange.Redis, unmodified, against the Redis front door of a three-node cluster: strings with expiry,
/// transactions with conditions, batches, SCAN over keys written through HTTP, streams with a consumer group —
/// first with every node up, then again while the node that owned the keys is crashed, with concurrent SETs whose
/// acknowledged values the KV history checker holds to account.
/// </summary>
public sealed class RespClusterSpec(ITestOutputHelper output)
{
    private const int Partitions = 16;

    private GridTestClusterOptions Kit => new()
    {
        Log = output.WriteLine,
        Configure = (_, o) => o with { Kv = o.Kv with { Partitions = Partitions }, Resp = o.Resp with { Port = FreePorts.Take(1)[0] } },
        FrontDoors = b => b.AddActorGridResp(),
    };

    [Fact]
    public async Task StackExchange_Redis_works_through_any_node_and_loses_no_acknowledged_SET_when_the_owner_crashes()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue().WithBroker(), Kit);
        var (tag, victim) = await TagOwnedByAsync(cluster, candidates: [1, 2]);
        output.WriteLine($"keys tagged {{{tag}}} live on node {victim}");
        var entry = cluster[0];
        using (var warmUp = await RawClient.ConnectAsync(Port(entry)))
        {
            await AwaitServingAsync(warmUp);
        }

        await using var redis = await ConnectAsync(entry);
        var db = redis.GetDatabase();

        await ScenarioAsync(cluster, redis, entry, tag, round: 1);

        // Concurrent SETs on the victim's partition, recorded; the owner crashes in the middle of them.
        var history = new History<KvCall, KvReply>();
        var acknowledgedAfterCrash = 0;
        var crashed = false;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var key = $"{{{tag}}}:writer{w}";
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                var value = $"w{w}-{n}";
                var op = await history.RecordAsync(w, new KvCall(KvCallKind.Put, key, value), async () =>
                {
                    try
                    {
                        return await db.StringSetAsync(key, value) ? (KvReply.Written(n), Outcome.Ok) : (null, Outcome.Failed);
                    }
                    catch (RedisException)
                    {
                        return (null, Outcome.Unknown);
                    }
                });
                if (op.Outcome == Outcome.Ok && Volatile.Read(ref crashed))
                {
                    Interlocked.Increment(ref acknowledgedAfterCrash);
                }
            }
        })).ToList();

        await Eventually.AwaitAsync(() => history.Operations.Count(o => o.Outcome == Outcome.Ok) >= 100 ? null : "too few SETs yet",
            TimeSpan.FromSeconds(60), "SETs acknowledged before the crash");
        await cluster.CrashAsync(victim);
        Volatile.Write(ref crashed, true);
        output.WriteLine($"crashed node {victim}");
        await Eventually.AwaitAsync(() => Volatile.Read(ref acknowledgedAfterCrash) >= 50 ? null : $"{acknowledgedAfterCrash} acknowledged since",
            TimeSpan.FromSeconds(90), "SETs acknowledged by the partition's new owner");

        // The same client work again, while the former owner stays down.
        await ScenarioAsync(cluster, redis, entry, tag, round: 2);

        await stop.CancelAsync();
        await Task.WhenAll(writers);
        var finals = new Dictionary<string, KvReply>();
        foreach (var key in history.Operations.Select(o => o.Call.Key).Distinct())
        {
            var value = (string?)await db.StringGetAsync(key);
            finals[key] = value is null ? KvReply.Absent : KvReply.Read(value, long.Parse(value[(value.IndexOf('-', StringComparison.Ordinal) + 1)..]));
        }

        // Versions here are each writer's sequence numbers (Redis SET reports none): the last acknowledged one must be read back.
        var check = KvHistoryChecker.CheckAcknowledgedWritesReadable(history.Operations, finals);
        output.WriteLine($"{history.Operations.Count} SETs, {history.Operations.Count(o => o.Outcome == Outcome.Unknown)} with unknown outcome; {check}");
        check.AssertValid();
    }

    [Fact]
    public async Task WATCH_makes_EXEC_fail_when_the_key_changed_and_bad_input_keeps_the_connection()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue().WithBroker(), Kit);
        var port = Port(cluster[0]);
        using var a = await RawClient.ConnectAsync(port);
        using var b = await RawClient.ConnectAsync(port);
        await AwaitServingAsync(a);

        Assert.Equal("+OK", await a.SendAsync("SET", "{w}:k", "1"));
        Assert.Equal("+OK", await a.SendAsync("WATCH", "{w}:k"));
        Assert.Equal("+OK", await b.SendAsync("SET", "{w}:k", "2"));
        Assert.Equal("+OK", await a.SendAsync("MULTI"));
        Assert.Equal("+QUEUED", await a.SendAsync("INCR", "{w}:k"));
        Assert.Equal("*-1", await a.SendAsync("EXEC"));
        Assert.Equal("$1\r\n2", await a.SendAsync("GET", "{w}:k"));

        // Unchanged watched key: EXEC runs every queued command in one step.
        Assert.Equal("+OK", await a.SendAsync("WATCH", "{w}:k"));
        Assert.Equal("+OK", await a.SendAsync("MULTI"));
        Assert.Equal("+QUEUED", await a.SendAsync("INCR", "{w}:k"));
        Assert.Equal("+QUEUED", await a.SendAsync("SET", "{w}:other", "x", "GET"));
        Assert.Equal("*2\r\n:3\r\n$-1", await a.SendAsync("EXEC"));

        // Keys in different partitions cannot share a transaction; a queuing error aborts it.
        Assert.Equal("+OK", await a.SendAsync("MULTI"));
        foreach (var key in new[] { "a", "b", "c", "d", "e", "f" })
        {
            Assert.Equal("+QUEUED", await a.SendAsync("SET", key, "1"));
        }

        Assert.StartsWith("-CROSSSLOT", await a.SendAsync("EXEC"), StringComparison.Ordinal);
        Assert.Equal("+OK", await a.SendAsync("MULTI"));
        Assert.StartsWith("-ERR unknown command 'NOPE'", await a.SendAsync("NOPE"), StringComparison.Ordinal);
        Assert.StartsWith("-EXECABORT", await a.SendAsync("EXEC"), StringComparison.Ordinal);

        // Errors as Redis gives them; the connection stays.
        Assert.StartsWith("-ERR wrong number of arguments for 'get' command", await a.SendAsync("GET"), StringComparison.Ordinal);
        Assert.StartsWith("-ERR value is not an integer", await a.SendAsync("INCR", "{w}:other"), StringComparison.Ordinal);
        // An argument over the limit is dropped as it streams in (never buffered), then refused.
        await a.SendRawNoReplyAsync($"*2\r\n$4\r\nECHO\r\n${20_000_000}\r\n");
        Assert.StartsWith("-ERR Protocol error: argument of", await a.SendRawAsync(new string('x', 20_000_000) + "\r\n"), StringComparison.Ordinal);
        Assert.Equal("+PONG", await a.SendAsync("PING"));

        // Pipelined: a read after a write sees it.
        Assert.Equal("+OK\r\n$1\r\n9\r\n:10\r\n$2\r\n10", await a.SendPipelineAsync(4, ["SET", "{w}:p", "9"], ["GET", "{w}:p"], ["INCR", "{w}:p"], ["GET", "{w}:p"]));
    }

    private static async Task ScenarioAsync(GridTestCluster cluster, ConnectionMultiplexer redis, GridTestNode entry, string tag, int round)
    {
        var db = redis.GetDatabase();
        var k = $"{{{tag}}}:r{round}";

        // Strings with expiry, and the same data as HTTP (values and versions).
        Assert.True(await db.StringSetAsync(k + ":session", "alice", TimeSpan.FromSeconds(60)));
        var ttl = await db.KeyTimeToLiveAsync(k + ":session");
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(60));
        var viaHttp = await entry.Client.Kv.GetAsync(k + ":session");
        Assert.Equal(("alice", 1L), (viaHttp!.AsString(), viaHttp.Version));
        Assert.True(await db.StringSetAsync(k + ":short", "gone soon", TimeSpan.FromMilliseconds(300)));
        await Eventually.AwaitAsync(async () => await db.KeyExistsAsync(k + ":short") ? "still there" : null, TimeSpan.FromSeconds(10), "a 300 ms key to expire");
        Assert.False(await db.StringSetAsync(k + ":session", "bob", when: When.NotExists));
        Assert.Equal("alice", (string?)await db.StringGetSetAsync(k + ":session", "carol"));
        Assert.Null(await db.KeyTimeToLiveAsync(k + ":session")); // a plain SET clears the TTL
        Assert.True(await db.KeyExpireAsync(k + ":session", TimeSpan.FromSeconds(100)));
        Assert.True(await db.KeyPersistAsync(k + ":session"));
        Assert.Equal(4, (await entry.Client.Kv.GetAsync(k + ":session"))!.Version); // SET, GETSET, EXPIRE, PERSIST
        await entry.Client.Kv.PutAsync(k + ":count", "41");
        Assert.Equal(42, await db.StringIncrementAsync(k + ":count"));
        Assert.Equal(40, await db.StringDecrementAsync(k + ":count", 2));
        Assert.Equal(40.5, await db.StringIncrementAsync(k + ":count", 0.5));
        Assert.Equal(4, (await entry.Client.Kv.GetAsync(k + ":count"))!.Version);
        Assert.Equal(7, await db.StringAppendAsync(k + ":log", "a,b,c,d"));
        Assert.Equal("a,b,c,d", (string?)await db.StringGetDeleteAsync(k + ":log"));
        Assert.False(await db.KeyExistsAsync(k + ":log"));
        var many = Enumerable.Range(0, 6).Select(i => new KeyValuePair<RedisKey, RedisValue>($"m{round}/{i}", $"v{i}")).ToArray();
        Assert.True(await db.StringSetAsync(many)); // MSET across partitions: atomic per partition
        Assert.Equal(many.Select(m => (string?)m.Value), (await db.StringGetAsync([.. many.Select(m => m.Key)])).Select(v => (string?)v));
        Assert.Equal(6, await db.KeyDeleteAsync([.. many.Select(m => m.Key)]));

        // Transactions with conditions, decided inside the partition the hash tag picks.
        var tx = db.CreateTransaction();
        tx.AddCondition(Condition.KeyNotExists(k + ":order"));
        _ = tx.StringSetAsync(k + ":order", "open");
        _ = tx.StringIncrementAsync(k + ":orders");
        Assert.True(await tx.ExecuteAsync());
#pragma warning disable SER301 // the point is a transaction with a condition, not the newer SET IFEQ
        var refused = db.CreateTransaction();
        refused.AddCondition(Condition.StringEqual(k + ":order", "closed"));
        _ = refused.StringSetAsync(k + ":order", "shipped");
#pragma warning restore SER301
        Assert.False(await refused.ExecuteAsync());
        Assert.Equal("open", (string?)await db.StringGetAsync(k + ":order"));
        Assert.Equal(1, (long)await db.StringGetAsync(k + ":orders"));

        // A batch: sent together, answered in order.
        var batch = db.CreateBatch();
        var sets = Enumerable.Range(0, 200).Select(i => batch.StringSetAsync($"b{round}/{i}", i)).ToList();
        var gets = Enumerable.Range(0, 200).Select(i => batch.StringGetAsync($"b{round}/{i}")).ToList();
        batch.Execute();
        Assert.All(await Task.WhenAll(sets), Assert.True);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), (await Task.WhenAll(gets)).Select(v => (long)v));

        // SCAN over keys written through HTTP.
        var httpKeys = Enumerable.Range(0, 25).Select(i => $"http{round}/{i:D2}").ToList();
        await Task.WhenAll(httpKeys.Select(key => entry.Client.Kv.PutAsync(key, "h")));
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var scanned = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: $"http{round}/*", pageSize: 7))
        {
            scanned.Add(key!);
        }

        Assert.Equal(httpKeys, scanned.Order(StringComparer.Ordinal));

        // Streams over a one-partition topic, with a consumer group the HTTP API shows.
        var stream = $"orders-{tag}-{round}";
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add((await db.StreamAddAsync(stream, "n", i))!);
        }

        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"{i}-0"), ids);
        Assert.Equal(10, await db.StreamLengthAsync(stream));
        Assert.Equal(["3-0", "4-0"], (await db.StreamRangeAsync(stream, "3-0", "4-0")).Select(e => (string)e.Id!));
        Assert.True(await db.StreamCreateConsumerGroupAsync(stream, "billing", StreamPosition.Beginning));
        var first = await db.StreamReadGroupAsync(stream, "billing", "c1", ">", count: 4);
        Assert.Equal(ids[..4], first.Select(e => (string)e.Id!));
        Assert.Equal("0", (string?)first[0]["n"]);
        var pending = await db.StreamPendingAsync(stream, "billing");
        Assert.Equal((4L, "1-0", "4-0"), (pending.PendingMessageCount, (string)pending.LowestPendingMessageId!, (string)pending.HighestPendingMessageId!));
        Assert.Equal("c1", pending.Consumers.Single().Name);
        Assert.Equal(4, await db.StreamAcknowledgeAsync(stream, "billing", [.. first.Select(e => e.Id)]));
        var group = await entry.Client.Broker.GetGroupAsync("billing");
        Assert.Equal(4, group.Offsets.Single(o => o.Topic == stream).Committed);
        var next = await db.StreamReadGroupAsync(stream, "billing", "c1", ">", count: 4);
        Assert.Equal(ids[4..8], next.Select(e => (string)e.Id!));
    }

    private static async Task<(string Tag, int Node)> TagOwnedByAsync(GridTestCluster cluster, int[] candidates)
    {
        var kv = cluster[0].Services.GetRequiredService<IKeyValueStore>();
        for (var i = 0; ; i++)
        {
            var tag = $"acct{i}";
            var owner = await kv.LocateAsync(kv.PartitionOf($"{{{tag}}}"));
            var index = cluster.Nodes.ToList().FindIndex(n => n.Address.ToString() == owner);
            if (candidates.Contains(index))
            {
                return (tag, index);
            }
        }
    }

    // A fresh cluster's first partition start recovers from the journal; on a loaded machine that can outlast one ask.
    private static Task AwaitServingAsync(RawClient client) =>
        Eventually.AwaitAsync(async () => await client.SendAsync("SET", "warm-up", "1") is var reply && reply == "+OK" ? null : reply,
            TimeSpan.FromSeconds(60), "the front door to serve a SET");

    private static int Port(GridTestNode node) => node.Services.GetRequiredService<RespFrontDoor>().EndPoint!.Port;

    private static async Task<ConnectionMultiplexer> ConnectAsync(GridTestNode node) =>
        await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", Port(node) } },
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
            SyncTimeout = 15_000,
            AsyncTimeout = 15_000,
        });
}
