using System.Collections.Concurrent;
using System.Net;
using ActorGrid.Broker;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ActorGrid.Client.Tests;

/// <summary>
/// A service that registers <c>AddActorGridClient</c> with the addresses of three nodes keeps working while one of them
/// is crashed: calls fail over to the others, reads and conditional writes are retried there, and nothing is written twice.
/// </summary>
public sealed class ClientFailoverSpec(ITestOutputHelper output)
{
    private const int Keys = 24;

    [Fact]
    public async Task A_service_with_three_node_addresses_keeps_working_while_one_node_is_crashed()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue().WithBroker(), new GridTestClusterOptions
        {
            Log = output.WriteLine,
            Configure = (_, o) => o with { Kv = o.Kv with { Partitions = 12 } },
        });

        var attempts = new AttemptLog();
        var services = new ServiceCollection().AddLogging();
        services.AddActorGridClient(o =>
            {
                // Node 0 first: it is the node the client uses until it fails, and the node this spec crashes.
                o.Nodes = [.. cluster.Nodes.Select(n => n.HttpAddress)];
                o.AttemptTimeout = TimeSpan.FromSeconds(15);
                o.TotalTimeout = TimeSpan.FromSeconds(90);
                o.RetryDelay = TimeSpan.FromMilliseconds(100);
            })
            .AddHttpMessageHandler(() => attempts);
        services.AddActorGridProducer(o => o.Linger = TimeSpan.FromMilliseconds(20));
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var kv = provider.GetRequiredService<IKvClient>();

        var expected = new (long Version, string Value)[Keys];
        for (var k = 0; k < Keys; k++)
        {
            var created = await kv.PutAsync(Key(k), "0", new KvPutOptions(IfAbsent: true));
            Assert.Equal(1, created.Version);
            expected[k] = (1, "0");
        }

        var settled = 0;
        // One round: every key compare-and-set to its next version. Write-first rounds swap from the version last
        // written (so the writes meet the crash first); the others read first.
        async Task SwapEveryKeyAsync(bool writeFirst)
        {
            for (var k = 0; k < Keys; k++)
            {
                var from = expected[k].Version;
                if (!writeFirst)
                {
                    var read = await kv.GetAsync(Key(k));
                    Assert.NotNull(read);
                    Assert.Equal(expected[k], (read.Version, read.AsString()));
                }

                var value = $"{from + 1}";
                try
                {
                    var written = await kv.PutAsync(Key(k), value, new KvPutOptions(IfVersion: from));
                    Assert.Equal(from + 1, written.Version);
                }
                catch (ActorGridException e) when (e.Status == HttpStatusCode.PreconditionFailed)
                {
                    // This client is the only writer: a failed precondition can only be its own attempt, which reached
                    // the owner before the node carrying it stopped answering. It must have been applied exactly once.
                    var now = await kv.GetAsync(Key(k));
                    Assert.Equal((from + 1, value), (now!.Version, now.AsString()));
                    settled++;
                }

                expected[k] = (from + 1, value);
            }
        }

        await SwapEveryKeyAsync(writeFirst: false);
        var beforeCrash = attempts.Count;

        await cluster.CrashAsync(0);
        output.WriteLine("[spec] node0 crashed");
        await SwapEveryKeyAsync(writeFirst: true);
        await SwapEveryKeyAsync(writeFirst: false);
        await SwapEveryKeyAsync(writeFirst: false);
        await cluster.WaitForUpAsync(2);
        await SwapEveryKeyAsync(writeFirst: false);

        // Idempotent produces and a consumer loop through the same client, with node 0 still first in its list.
        var broker = provider.GetRequiredService<IBrokerClient>();
        await broker.CreateTopicAsync("failover-orders", 3);
        var producer = provider.GetRequiredService<IActorGridProducer>();
        var produced = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            producer.ProduceAsync("failover-orders", ProducerRecord.Text($"order-{i % 7}", $"o{i}"))));
        Assert.Equal(60, produced.Distinct().Count());
        var topic = await broker.GetTopicAsync("failover-orders");
        Assert.Equal(60, topic.Partitions.Sum(p => p.EndOffset - p.StartOffset));

        var seen = new ConcurrentDictionary<string, int>();
        var assigned = new List<TopicPartition>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var consumer = new ActorGridConsumer(broker, new ActorGridConsumerOptions
        {
            Group = "failover-readers",
            Topics = ["failover-orders"],
            OnPartitionsAssigned = (partitions, _) =>
            {
                assigned.AddRange(partitions);
                return Task.CompletedTask;
            },
        });
        await consumer.RunAsync((record, _) =>
        {
            seen.AddOrUpdate(record.Value!, 1, (_, n) => n + 1);
            if (seen.Count == 60)
            {
                stop.Cancel();
            }

            return Task.CompletedTask;
        }, stop.Token);
        Assert.Equal(60, seen.Count);
        Assert.Equal(3, assigned.Distinct().Count());
        var group = await broker.GetGroupAsync("failover-readers");
        Assert.Equal(0, group.TotalLag);

        // Verified through a client of node 1 alone: every key holds the last value written, at the version that
        // counts each write once.
        for (var k = 0; k < Keys; k++)
        {
            var final = await cluster[1].Client.Kv.GetAsync(Key(k));
            Assert.Equal(expected[k], (final!.Version, final.AsString()));
            Assert.Equal(6, final.Version); // created, then five rounds of swaps
        }

        var afterCrash = attempts.Snapshot().Skip(beforeCrash).ToList();
        var node0 = cluster[0].HttpAddress.Authority;
        output.WriteLine($"[spec] {afterCrash.Count} attempts after the crash; {settled} writes settled by re-reading; by node and outcome:");
        foreach (var group2 in afterCrash.GroupBy(a => $"{a.Node} {a.Method} {a.Outcome}").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"[spec]   {group2.Key}: {group2.Count()}");
        }

        // The calls met the crash (the dead node refused connections; the owners of its shards were away for a while)
        // and yet every one of them succeeded: they were retried at the other nodes.
        Assert.Contains(afterCrash, a => a.Node == node0 && a.Outcome == "unreachable");
        Assert.Contains(afterCrash, a => a is { Method: "PUT", Conditional: true } && a.Node != node0 && a.Outcome.StartsWith('5'));
        Assert.All(afterCrash.Where(a => a.Outcome == "unreachable"), a => Assert.Equal(node0, a.Node));
    }

    private static string Key(int k) => $"failover/{k:D2}";

    /// <summary>Records every attempt the client makes (it sits inside the failover handler: one entry per node tried).</summary>
    private sealed class AttemptLog : DelegatingHandler
    {
        private readonly ConcurrentQueue<Attempt> _attempts = new();

        public int Count => _attempts.Count;

        public IReadOnlyList<Attempt> Snapshot() => [.. _attempts];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var node = request.RequestUri!.Authority;
            var conditional = request.Headers.IfMatch.Count > 0 || request.Headers.IfNoneMatch.Count > 0;
            try
            {
                var response = await base.SendAsync(request, cancellationToken);
                _attempts.Enqueue(new Attempt(node, request.Method.Method, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), conditional));
                return response;
            }
            catch (HttpRequestException)
            {
                _attempts.Enqueue(new Attempt(node, request.Method.Method, "unreachable", conditional));
                throw;
            }
        }
    }

    private sealed record Attempt(string Node, string Method, string Outcome, bool Conditional);
}
