using System.Diagnostics;
using ActorGrid.Configuration;
using ActorGrid.Core.Tests.Counter;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ActorGrid.Core.Tests;

public sealed class ClusterSpec(ITestOutputHelper output)
{
    private GridTestClusterOptions Kit(PersistenceProvider provider = PersistenceProvider.Sqlite) =>
        new() { Provider = provider, Log = output.WriteLine };

    [Fact]
    public async Task Three_nodes_form_one_cluster_over_loopback()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.AddRole(new CounterRole()), Kit());

        foreach (var node in cluster.Nodes)
        {
            var status = await node.Client.Cluster.GetStatusAsync();
            Assert.Equal(3, status.Members.Count);
            Assert.All(status.Members, m => Assert.Equal("Up", m.Status));
            Assert.All(status.Members, m => Assert.Contains("counter", m.Roles));
            Assert.Empty(status.Unreachable);
            Assert.StartsWith("akka.trttl.gremlin.tcp://grid-", status.Self);
            Assert.True(await node.Client.Cluster.IsReadyAsync());
        }

        var leaders = new HashSet<string?>();
        foreach (var node in cluster.Nodes)
        {
            leaders.Add((await node.Client.Cluster.GetStatusAsync()).Leader);
        }

        Assert.Single(leaders);

        // What the typed Akka.Hosting options (remoting, clustering, split-brain resolver) and the HOCON left for the
        // rest made of the node's options, as the actor system reads them.
        var node0 = cluster[0];
        var config = node0.System.Settings.Config;
        var fd = node0.Options.FailureDetection;
        Assert.Contains("Cluster", node0.System.Settings.ProviderClass, StringComparison.Ordinal);
        Assert.Equal(["counter"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal(1, config.GetInt("akka.cluster.min-nr-of-members"));
        Assert.Contains("SplitBrainResolverProvider", config.GetString("akka.cluster.downing-provider-class"), StringComparison.Ordinal);
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(fd.StableAfter, config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.True(config.GetBoolean("akka.cluster.split-brain-resolver.down-all-when-unstable"));
        Assert.Equal(fd.HeartbeatInterval, config.GetTimeSpan("akka.cluster.failure-detector.heartbeat-interval"));
        Assert.Equal(fd.AcceptableHeartbeatPause, config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(fd.HeartbeatInterval, config.GetTimeSpan("akka.cluster.failure-detector.expected-response-after"));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(node0.Options.Port, config.GetInt("akka.remote.dot-netty.tcp.port"));
        var frame = Math.Max(node0.Options.Kv.MaxValueBytes, node0.Options.Broker.MaxMessageBytes) * 2L + 256 * 1024;
        Assert.Equal(frame, config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size"));
        Assert.Equal(frame * 2, config.GetByteSize("akka.remote.dot-netty.tcp.send-buffer-size"));
        Assert.False(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.False(config.GetBoolean("akka.remote.log-remote-lifecycle-events"));
    }

    [Fact]
    public Task Persistent_entity_survives_a_crash_of_its_host_on_sqlite() => EntitySurvivesCrashOfItsHost(PersistenceProvider.Sqlite);

    [PostgresFact]
    public Task Persistent_entity_survives_a_crash_of_its_host_on_postgresql() => EntitySurvivesCrashOfItsHost(PersistenceProvider.PostgreSql);

    [Fact]
    public async Task A_broken_journal_fails_commands_without_acknowledging_them_and_loses_nothing()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.AddRole(new CounterRole()), Kit());
        var region = Region(cluster[0]);
        for (var i = 0; i < 3; i++)
        {
            await region.Ask<CounterProtocol.CountReply>(new CounterProtocol.Increment("j", 1), TimeSpan.FromSeconds(10));
        }

        await cluster.BreakJournalAsync();
        await Assert.ThrowsAsync<AskTimeoutException>(() =>
            region.Ask<CounterProtocol.CountReply>(new CounterProtocol.Increment("j", 100), TimeSpan.FromSeconds(3)));
        await cluster.RepairJournalAsync();

        CounterProtocol.CountReply? after = null;
        await Eventually.AwaitAsync(async () =>
        {
            after = await region.Ask<CounterProtocol.CountReply>(new CounterProtocol.GetCount("j"), TimeSpan.FromSeconds(2));
            return null;
        }, TimeSpan.FromSeconds(20), "the entity to recover after the repair");
        Assert.Equal(3, after!.Count);
        Assert.Equal(4, (await region.Ask<CounterProtocol.CountReply>(new CounterProtocol.Increment("j", 1), TimeSpan.FromSeconds(10))).Count);
    }

    private async Task EntitySurvivesCrashOfItsHost(PersistenceProvider provider)
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.AddRole(new CounterRole()), Kit(provider));
        var entity = "c-" + Guid.NewGuid().ToString("N")[..8];

        CounterProtocol.CountReply reply = null!;
        for (var i = 0; i < 10; i++)
        {
            reply = await Region(cluster[i % 3]).Ask<CounterProtocol.CountReply>(new CounterProtocol.Increment(entity, 1), TimeSpan.FromSeconds(10));
        }

        Assert.Equal(10, reply.Count);
        var host = cluster.Nodes.Single(n => n.Address.ToString() == reply.Node);
        var survivor = cluster.Nodes.First(n => n != host);
        output.WriteLine($"entity {entity} lives on node{host.Index}; crashing it");

        var clock = Stopwatch.StartNew();
        await cluster.CrashAsync(host.Index);

        CounterProtocol.CountReply? recovered = null;
        await Eventually.AwaitAsync(async () =>
        {
            recovered = await Region(survivor).Ask<CounterProtocol.CountReply>(new CounterProtocol.GetCount(entity), TimeSpan.FromSeconds(2));
            return recovered.Node == reply.Node ? "still answered by the crashed node" : null;
        }, TimeSpan.FromSeconds(40), "the entity to answer from a survivor");
        output.WriteLine($"entity answered from {recovered!.Node} {clock.Elapsed.TotalSeconds:0.0}s after the crash");

        Assert.Equal(10, recovered.Count);
        Assert.NotEqual(reply.Node, recovered.Node);

        // The crashed node was downed and removed by the split-brain resolver: nothing else downs nodes here.
        await cluster.WaitForUpAsync(2);
        Assert.DoesNotContain(host.Address, survivor.UpMembers);
    }

    private static IActorRef Region(GridTestNode node) => node.Services.GetRequiredService<ActorRegistry>().Get<CounterRegion>();
}
