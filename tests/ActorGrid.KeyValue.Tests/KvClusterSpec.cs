using System.Collections.Concurrent;
using System.Net;
using ActorGrid.Client;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.TestKit;
using Akka.Actor;
using ActorGrid.TestKit.Histories;
using Xunit.Abstractions;

namespace ActorGrid.KeyValue.Tests;

/// <summary>The KV role on three in-process nodes over real loopback remoting and one SQLite journal.</summary>
public sealed class KvClusterSpec(ITestOutputHelper output)
{
    private const int Partitions = 16;

    private GridTestClusterOptions Kit => KitFor(PersistenceProvider.Sqlite);

    private GridTestClusterOptions KitFor(PersistenceProvider provider) => new()
    {
        Provider = provider,
        Log = output.WriteLine,
        Configure = (_, o) => o with { Kv = o.Kv with { Partitions = Partitions } },
    };

    [Fact]
    public async Task Keys_written_through_one_node_are_read_through_the_others()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue(), Kit);
        var keys = Enumerable.Range(0, 20).Select(i => $"spread/{i:D2}").ToList();
        foreach (var key in keys)
        {
            Assert.Equal(1, (await cluster[0].Client.Kv.PutAsync(key, "v-" + key)).Version);
        }

        foreach (var node in new[] { cluster[1], cluster[2] })
        {
            foreach (var key in keys)
            {
                var value = await node.Client.Kv.GetAsync(key);
                Assert.NotNull(value);
                Assert.Equal("v-" + key, value.AsString());
                Assert.Equal(1, value.Version);
                Assert.Null(value.Staleness);
            }
        }

        // Replica reads on node 2 follow writes made through node 1 and say how stale they may be.
        foreach (var key in keys)
        {
            var replica = await cluster[2].Client.Kv.GetAsync(key, KvConsistency.Replica);
            Assert.Equal("v-" + key, replica!.AsString());
            Assert.StartsWith("ms=", replica.Staleness);
        }

        await cluster[1].Client.Kv.PutAsync("spread/07", "changed");
        await cluster[1].Client.Kv.DeleteAsync("spread/08");
        await Eventually.AwaitAsync(async () =>
        {
            var changed = await cluster[2].Client.Kv.GetAsync("spread/07", KvConsistency.Replica);
            var deleted = await cluster[2].Client.Kv.GetAsync("spread/08", KvConsistency.Replica);
            return changed?.Version == 2 && changed.AsString() == "changed" && deleted is null
                ? null
                : $"replica has spread/07 v{changed?.Version} and spread/08 {(deleted is null ? "absent" : "present")}";
        }, TimeSpan.FromSeconds(10), "the replica on node 2 to apply writes made through node 1");

        // A scan through node 2 gathers every partition, in key order, page by page.
        var expected = keys.Where(k => k != "spread/08").ToList();
        var page = await cluster[2].Client.Kv.ScanAsync("spread/");
        Assert.Equal(expected, page.Items.Select(i => i.Key));
        Assert.Null(page.Next);
        var paged = new List<string>();
        await foreach (var item in cluster[2].Client.Kv.ScanAllAsync("spread/", pageSize: 6))
        {
            paged.Add(item.Key);
        }

        Assert.Equal(expected, paged);
    }

    [Fact]
    public async Task A_crash_of_a_partition_owner_under_concurrent_writes_loses_no_acknowledged_write()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue(), Kit);

        var victim = cluster[2].Address.ToString();
        var owners = await SpreadShardsAsync(cluster, cluster[2]);
        var victimShards = owners.Where(o => o.Value == victim).Select(o => o.Key).ToHashSet();

        var extractor = new GridMessageExtractor(Partitions);
        bool OnVictim(string key) => victimShards.Contains(extractor.ShardId(KvKeys.EntityIdFor(key, Partitions), null)!);
        var acked = new ConcurrentDictionary<string, string>();
        var movedAfterCrash = 0;
        var crashed = false;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var client = cluster[w % 2].Client.Kv; // nodes 0 and 1 serve the writers; node 2 owns some partitions
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var key = $"crash/{w}/{i:D5}";
                try
                {
                    await client.PutAsync(key, $"{w}:{i}");
                    acked[key] = $"{w}:{i}";
                    if (Volatile.Read(ref crashed) && OnVictim(key))
                    {
                        Interlocked.Increment(ref movedAfterCrash);
                    }
                }
                catch (Exception e) when (e is ActorGridException { Status: HttpStatusCode.ServiceUnavailable } or TaskCanceledException or HttpRequestException)
                {
                    // Outcome unknown (the owner died or was moving): neither counted nor checked.
                }
            }
        })).ToList();

        await Eventually.AwaitAsync(() => acked.Keys.Count(OnVictim) >= 40 ? null : $"{acked.Count} acknowledged", TimeSpan.FromSeconds(60), "writes to the victim's partitions before the crash");

        // Compare-and-set writes with an Idempotency-Key on the victim's partitions, whose answers the client will "lose".
        var casKeys = Enumerable.Range(0, 500).Select(i => $"idem/{i}").Where(OnVictim).Take(5).ToList();
        foreach (var key in casKeys)
        {
            await cluster[0].Client.Kv.PutAsync(key, "v1");
            Assert.Equal(2, (await cluster[0].Client.Kv.PutAsync(key, "v2", new KvPutOptions(IfVersion: 1, IdempotencyKey: "cas:" + key))).Version);
        }

        await cluster.CrashAsync(2);
        Volatile.Write(ref crashed, true);
        await Eventually.AwaitAsync(
            () => movedAfterCrash >= 30 ? null : $"{movedAfterCrash} acknowledged on moved partitions",
            TimeSpan.FromSeconds(60),
            "writes to the crashed node's partitions to resume on the survivors");
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        // Their retries through another node reach the new owners, which recovered the remembered writes from the
        // journal: the original answer (200, version 2), not a 412, and nothing written twice.
        foreach (var key in casKeys)
        {
            Assert.Equal(2, (await cluster[1].Client.Kv.PutAsync(key, "v2", new KvPutOptions(IfVersion: 1, IdempotencyKey: "cas:" + key))).Version);
            Assert.Equal(2, (await cluster[1].Client.Kv.GetAsync(key))!.Version);
        }

        var onVictim = acked.Keys.Count(OnVictim);
        output.WriteLine($"acknowledged {acked.Count} writes, {onVictim} of them to partitions that lived on the crashed node");
        await cluster.WaitForUpAsync(2);

        // Every acknowledged write must be read back. A read may still meet a partition that is being recovered
        // (503: retry, as any client would); an absent key or another value is a lost write.
        var unverified = new HashSet<string>(acked.Keys);
        var lost = new List<string>();
        await Eventually.AwaitAsync(async () =>
        {
            foreach (var key in unverified.ToList())
            {
                KvValue? read;
                try
                {
                    read = await cluster[1].Client.Kv.GetAsync(key);
                }
                catch (ActorGridException e) when (e.Status == HttpStatusCode.ServiceUnavailable)
                {
                    continue;
                }

                if (read is null || read.AsString() != acked[key] || read.Version != 1)
                {
                    lost.Add($"{key}: acknowledged '{acked[key]}' v1, read {(read is null ? "nothing" : $"'{read.AsString()}' v{read.Version}")}");
                }

                unverified.Remove(key);
            }

            return unverified.Count == 0 ? null : $"{unverified.Count} keys not readable yet";
        }, TimeSpan.FromSeconds(30), "every acknowledged write to be read back");
        Assert.Empty(lost);
    }

    [Fact]
    public async Task A_graceful_leave_under_load_answers_every_write_and_applies_each_exactly_once()
    {
        await using var cluster = await GridTestCluster.StartAsync(2, grid => grid.WithKeyValue(), Kit);
        var leaving = cluster[1].Address.ToString();
        var owners = await SpreadShardsAsync(cluster, cluster[1]);
        var extractor = new GridMessageExtractor(Partitions);
        var keys = Enumerable.Range(0, 500).Select(i => $"leave/{i}")
            .Where(k => owners.GetValueOrDefault(extractor.ShardId(KvKeys.EntityIdFor(k, Partitions), null)!) == leaving)
            .Take(20).ToArray();
        Assert.NotEmpty(keys);

        // 1000 writes in flight through node 0 to partitions on node 1 while node 1 leaves: the partitions finish
        // their journal writes before handing off, and sharding buffers the rest for the new owner. Not quite all:
        // a region that holds messages for a shard when its hand-off begins drops them ("Dropping [n] buffered
        // messages to shard ... during hand off to avoid re-ordering"), and their asks time out. So each write
        // carries an idempotency key and is asked again on a timeout, as the HTTP client retries a 503: every
        // write is still answered, and each is applied exactly once.
        var region = Akka.Hosting.ActorRegistry.For(cluster[0].System).Get<KvPartitionRegion>();
        var writes = Enumerable.Range(0, 1000).Select(i => keys[i % keys.Length]).ToList();
        var asks = writes.Select((k, i) => PutAnsweredAsync(new KvProtocol.Put(KvKeys.EntityIdFor(k, Partitions), k, [1], KvProtocol.Precondition.None, null, $"leave-{i}"))).ToList();
        await cluster.LeaveAsync(1);
        var results = await Task.WhenAll(asks);

        Assert.All(results, r => Assert.Equal(KvProtocol.WriteStatus.Written, r.Status));
        foreach (var group in writes.GroupBy(k => k))
        {
            // Unconditional puts: the version counts the writes applied, so a lost or doubled write shows here.
            var read = await cluster[0].Client.Kv.GetAsync(group.Key);
            Assert.Equal(group.Count(), read!.Version);
        }

        async Task<KvProtocol.WriteResult> PutAnsweredAsync(KvProtocol.Put put)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await region.Ask<KvProtocol.WriteResult>(put, TimeSpan.FromSeconds(10));
                }
                catch (AskTimeoutException) when (attempt < 3)
                {
                }
            }
        }
    }

    [Fact]
    public Task Concurrent_cas_increments_from_several_nodes_never_lose_an_update_and_the_hot_key_leads_the_load_view() =>
        ConcurrentCasIncrements(PersistenceProvider.Sqlite);

    [PostgresFact]
    public Task Concurrent_cas_increments_never_lose_an_update_on_postgresql() => ConcurrentCasIncrements(PersistenceProvider.PostgreSql);

    private async Task ConcurrentCasIncrements(PersistenceProvider provider)
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue(), KitFor(provider));
        const string key = "counters/cas";
        await cluster[0].Client.Kv.PutAsync(key, "0", new KvPutOptions(IfAbsent: true));

        var successes = 0;
        var conflicts = 0;
        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var client = cluster[w % 3].Client.Kv;
            for (var done = 0; done < 8;)
            {
                var current = await client.GetAsync(key);
                var next = (int.Parse(current!.AsString()) + 1).ToString();
                try
                {
                    await client.PutAsync(key, next, new KvPutOptions(IfVersion: current.Version));
                    Interlocked.Increment(ref successes);
                    done++;
                }
                catch (ActorGridException e) when (e.Status == HttpStatusCode.PreconditionFailed)
                {
                    Interlocked.Increment(ref conflicts);
                }
            }
        })).ToList();
        await Task.WhenAll(workers);

        var final = await cluster[2].Client.Kv.GetAsync(key);
        output.WriteLine($"{successes} successful CAS, {conflicts} conflicts");
        Assert.Equal(48, successes);
        Assert.Equal(successes, int.Parse(final!.AsString()));
        Assert.Equal(successes + 1, final.Version);

        // Hundreds of reads and writes hit one partition: its shard tops /cluster/shards.
        await cluster[0].Client.Kv.PutAsync("cold/key", "x");
        var hotShard = new GridMessageExtractor(Partitions).ShardId(KvKeys.EntityIdFor(key, Partitions), null);
        await Eventually.AwaitAsync(async () =>
        {
            var shards = (await cluster[1].Client.Cluster.GetShardsAsync()).Regions.Single(r => r.Role == "kv").Shards;
            var hottest = shards.MaxBy(s => s.Load ?? 0);
            return hottest?.ShardId == hotShard && hottest.Load >= 5 ? null : $"hottest is {hottest?.ShardId} at {hottest?.Load}, expected {hotShard}";
        }, TimeSpan.FromSeconds(10), "the hot shard to lead the load view");
    }

    [Fact]
    public async Task Strong_operations_stay_linearizable_per_key_while_a_node_hands_its_partitions_off()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue(), Kit);

        // Mostly keys whose partitions live on the node that will leave, so their operations cross the handoff.
        var leaving = cluster[2].Address.ToString();
        var owners = await SpreadShardsAsync(cluster, cluster[2]);
        var extractor = new GridMessageExtractor(Partitions);
        bool OnLeaving(string k) => owners.GetValueOrDefault(extractor.ShardId(KvKeys.EntityIdFor(k, Partitions), null)!) == leaving;
        var candidates = Enumerable.Range(0, 500).Select(i => $"lin/{i}").ToList();
        var keys = candidates.Where(OnLeaving).Take(4).Concat(candidates.Where(k => !OnLeaving(k)).Take(2)).ToArray();
        Assert.Equal(6, keys.Length);

        const int perKey = 55;
        var budget = keys.ToDictionary(k => k, _ => perKey);
        var history = new History<KvCall, KvReply>();
        var issued = 0;
        var clients = Enumerable.Range(0, 6).Select(p => Task.Run(async () =>
        {
            var kv = cluster[p % 2].Client.Kv;
            var random = new Random(p);
            var seen = new Dictionary<string, long>();
            while (true)
            {
                string key;
                lock (budget)
                {
                    var open = budget.Where(b => b.Value > 0).Select(b => b.Key).ToList();
                    if (open.Count == 0)
                    {
                        return;
                    }

                    key = open[random.Next(open.Count)];
                    budget[key]--;
                }

                Interlocked.Increment(ref issued);
                var value = $"{p}-{random.Next(1000)}";
                var roll = random.Next(100);
                var op = roll switch
                {
                    < 30 => await history.RecordAsync(p, new KvCall(KvCallKind.Get, key), async () =>
                        await Call(async () => await kv.GetAsync(key) is { } v ? KvReply.Read(v.AsString(), v.Version) : KvReply.Absent)),
                    < 55 => await history.RecordAsync(p, new KvCall(KvCallKind.Put, key, value), async () =>
                        await Call(async () => KvReply.Written((await kv.PutAsync(key, value)).Version))),
                    < 80 => await history.RecordAsync(p, new KvCall(KvCallKind.CompareAndSet, key, value, seen.GetValueOrDefault(key, 1)), async () =>
                        await Call(async () => KvReply.Written((await kv.PutAsync(key, value, new KvPutOptions(IfVersion: seen.GetValueOrDefault(key, 1)))).Version))),
                    < 90 => await history.RecordAsync(p, new KvCall(KvCallKind.Create, key, value), async () =>
                        await Call(async () => KvReply.Written((await kv.PutAsync(key, value, new KvPutOptions(IfAbsent: true))).Version))),
                    _ => await history.RecordAsync(p, new KvCall(KvCallKind.Delete, key), async () =>
                        await Call(async () => await kv.DeleteAsync(key) ? new KvReply(true, null, 0) : KvReply.Absent)),
                };
                if (op is { Outcome: Outcome.Ok, Reply: { Found: true, Version: > 0 } reply })
                {
                    seen[key] = reply.Version;
                }
            }
        })).ToList();

        await Eventually.AwaitAsync(() => issued >= keys.Length * perKey / 3 ? null : $"{issued} issued", TimeSpan.FromSeconds(30), "a third of the operations");
        await cluster.LeaveAsync(2);
        await Task.WhenAll(clients);
        await cluster.WaitForUpAsync(2);

        // The final strong reads join the history: a linearization must explain them too, so an acknowledged
        // write that was lost in the handoff fails the check.
        foreach (var key in keys)
        {
            await history.RecordAsync(99, new KvCall(KvCallKind.Get, key), async () =>
                await Call(async () => await cluster[1].Client.Kv.GetAsync(key) is { } v ? KvReply.Read(v.AsString(), v.Version) : KvReply.Absent));
        }

        var operations = history.Operations;
        output.WriteLine($"{operations.Count} operations, {operations.Count(o => o.Outcome == Outcome.Unknown)} with unknown outcome, " +
                         $"{operations.Count(o => o.Reply is { PreconditionFailed: true })} precondition failures");
        Assert.All(operations.Where(o => o.Process == 99), o => Assert.Equal(Outcome.Ok, o.Outcome));
        KvHistoryChecker.CheckLinearizable(operations).AssertValid();
    }

    /// <summary>
    /// Wakes every partition, then waits until the shards are balanced (a node that joined last gets shards from
    /// the coordinator's rebalancing, every couple of seconds), <paramref name="node"/> owns at least two, and the
    /// placement has not changed for a rebalance round: a fault injected while a shard is being handed off would
    /// hold that shard until sharding's handoff-timeout. Returns shard → owner.
    /// </summary>
    private static async Task<Dictionary<string, string>> SpreadShardsAsync(GridTestCluster cluster, GridTestNode node)
    {
        for (var i = 0; i < 64; i++)
        {
            await cluster[0].Client.Kv.PutAsync($"warm/{i}", "w");
        }

        var owners = new Dictionary<string, string>();
        var stableSince = DateTime.UtcNow;
        await Eventually.AwaitAsync(async () =>
        {
            var current = (await cluster[0].Client.Cluster.GetShardsAsync()).Regions.Single(r => r.Role == "kv").Shards.ToDictionary(s => s.ShardId, s => s.Node);
            if (current.Count != owners.Count || current.Any(c => owners.GetValueOrDefault(c.Key) != c.Value))
            {
                owners = current;
                stableSince = DateTime.UtcNow;
            }

            var perNode = cluster.Running.Select(n => owners.Values.Count(o => o == n.Address.ToString())).ToList();
            var owned = owners.Values.Count(n => n == node.Address.ToString());
            return owned >= 2 && perNode.Max() - perNode.Min() <= 1 && DateTime.UtcNow - stableSince >= TimeSpan.FromSeconds(3)
                ? null
                : $"node{node.Index} owns {owned} of {owners.Count} shards; per node {string.Join("/", perNode)}";
        }, TimeSpan.FromSeconds(40), $"shards balanced and node{node.Index} owning some");
        return owners;
    }

    /// <summary>A client call as a history entry: a 412 is an observed outcome, a 503 an unknown one.</summary>
    private static async Task<(KvReply? Reply, Outcome Outcome)> Call(Func<Task<KvReply>> call)
    {
        try
        {
            return (await call(), Outcome.Ok);
        }
        catch (ActorGridException e) when (e.Status == HttpStatusCode.PreconditionFailed)
        {
            return (KvReply.Precondition, Outcome.Ok);
        }
        catch (ActorGridException e) when (e.Status == HttpStatusCode.ServiceUnavailable)
        {
            return (null, Outcome.Unknown);
        }
    }
}
