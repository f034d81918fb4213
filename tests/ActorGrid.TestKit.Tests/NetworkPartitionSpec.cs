using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Xunit.Abstractions;

namespace ActorGrid.TestKit.Tests;

public sealed class NetworkPartitionSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_partition_blocks_traffic_and_heal_restores_it()
    {
        // A split-brain resolver that waits a minute lets the spec observe the partition itself.
        var kit = new GridTestClusterOptions
        {
            Log = output.WriteLine,
            FailureDetection = new GridTestClusterOptions().FailureDetection with { StableAfter = TimeSpan.FromSeconds(60) },
        };
        await using var cluster = await GridTestCluster.StartAsync(3, _ => { }, kit);
        Assert.NotNull(await IdentifyAsync(cluster[1], cluster[0]));

        await cluster.PartitionAsync([0], [1, 2]);

        await Eventually.AwaitAsync(() =>
            Unreachable(cluster[1]).Contains(cluster[0].Address) && Unreachable(cluster[2]).Contains(cluster[0].Address)
            && Unreachable(cluster[0]).Count == 2
                ? null
                : "not every side sees the other as unreachable yet", TimeSpan.FromSeconds(20), "the partition to be detected");
        Assert.Null(await IdentifyAsync(cluster[1], cluster[0]));
        Assert.Null(await IdentifyAsync(cluster[0], cluster[2]));
        Assert.NotNull(await IdentifyAsync(cluster[1], cluster[2]));

        await cluster.HealAsync();

        await cluster.WaitForUpAsync(3, TimeSpan.FromSeconds(20));
        Assert.NotNull(await IdentifyAsync(cluster[1], cluster[0]));
        Assert.NotNull(await IdentifyAsync(cluster[0], cluster[2]));
    }

    [Fact]
    public async Task The_split_brain_resolver_downs_the_minority_and_the_minority_stops()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, _ => { }, new GridTestClusterOptions { Log = output.WriteLine });

        await cluster.PartitionAsync([0], [1, 2]);

        await cluster.WaitForUpAsync(2);
        await Eventually.AwaitAsync(() => cluster[0].IsRunning ? "node0 still runs" : null, TimeSpan.FromSeconds(20), "the minority node to stop");
        Assert.True(cluster[1].IsRunning);
        Assert.True(cluster[2].IsRunning);
        Assert.DoesNotContain(cluster[0].Address, cluster[1].UpMembers);
        await Eventually.AwaitAsync(async () =>
        {
            try
            {
                using var live = await cluster[0].Http.GetAsync("health/live");
                return live.IsSuccessStatusCode ? "the downed node still reports live" : null;
            }
            catch (HttpRequestException)
            {
                return null; // its host has stopped, as the process would exit
            }
        }, TimeSpan.FromSeconds(20), "the downed node to stop serving");
    }

    [Fact]
    public async Task A_crashed_node_is_removed_and_can_restart_and_rejoin()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, _ => { }, new GridTestClusterOptions { Log = output.WriteLine });
        var crashed = cluster[2].Address;

        await cluster.CrashAsync(2);
        await cluster.WaitForUpAsync(2);
        Assert.DoesNotContain(crashed, cluster[0].UpMembers);

        var restarted = await cluster.RestartAsync(2);
        await cluster.WaitForUpAsync(3);
        Assert.Contains(restarted.Address, cluster[0].UpMembers);
    }

    [Fact]
    public async Task A_graceful_leave_removes_the_node_without_downing()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, _ => { }, new GridTestClusterOptions { Log = output.WriteLine });
        var leaving = cluster[1].Address;

        await cluster.LeaveAsync(1);

        Assert.False(cluster[1].IsRunning);
        await cluster.WaitForUpAsync(2);
        Assert.DoesNotContain(leaving, cluster[0].UpMembers);
    }

    private static IReadOnlySet<Address> Unreachable(GridTestNode node) =>
        Cluster.Get(node.System).State.Unreachable.Select(m => m.Address).ToHashSet();

    private static async Task<IActorRef?> IdentifyAsync(GridTestNode from, GridTestNode to)
    {
        try
        {
            var identity = await from.System.ActorSelection(new RootActorPath(to.Address) / "system")
                .Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(1.5));
            return identity.Subject;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }
}
