using System.Globalization;
using ActorGrid.Client;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using Akka.Cluster;
using Xunit.Abstractions;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Tests;

/// <summary>
/// A job whose shuffle or map output is larger than the node's memory budget fails with an error that says so,
/// and the grid goes on: every node stays Up and serves KV while the job runs and fails (issue 14).
/// </summary>
public sealed class MemoryBudgetSpec(ITestOutputHelper output)
{
    [Theory]
    [InlineData("shuffle", "ShuffleBudgetBytes")]
    [InlineData("map", "MapOutputBudgetBytes")]
    public async Task A_job_over_the_memory_budget_fails_clearly_while_every_node_serves_kv(string budget, string named)
    {
        var settings = Settings.Default(2) with { RetryBackoff = TimeSpan.FromMilliseconds(100) };
        settings = budget == "shuffle" ? settings with { ShuffleBudgetBytes = 64 * 1024 } : settings with { MapOutputBudgetBytes = 64 * 1024 };
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue().WithMapReduce(settings: settings), new GridTestClusterOptions { Log = output.WriteLine });
        // 40,000 distinct words: about 500 KB of map output for one reducer.
        var text = string.Join(' ', Enumerable.Range(0, 40_000).Select(i => "w" + i.ToString(CultureInfo.InvariantCulture)));
        var jobs = cluster.Nodes[0].Client.Jobs;

        var jobId = await jobs.SubmitAsync(new JobRequest("wordcount", JobInput.FromText(text), Reducers: 1));
        var finished = jobs.WaitAsync(jobId).WaitAsync(TimeSpan.FromSeconds(90));
        var writes = 0;
        while (!finished.IsCompleted)
        {
            foreach (var node in cluster.Nodes)
            {
                var key = $"budget/{writes++}";
                Assert.True((await node.Client.Kv.PutAsync(key, "v")).Version >= 1);
                Assert.NotNull(await cluster.Nodes[writes % 3].Client.Kv.GetAsync(key));
                Assert.All(cluster.Nodes, n => Assert.All(Cluster.Get(n.System).State.Members, m => Assert.Equal(MemberStatus.Up, m.Status)));
            }
        }

        var status = await finished;
        output.WriteLine($"{status.State} after {writes} KV writes meanwhile: {status.Error}");
        Assert.Equal("Failed", status.State);
        Assert.Contains("memory budget", status.Error);
        Assert.Contains(named, status.Error);
        Assert.All(cluster.Nodes, n => Assert.Equal(3, Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up)));
    }
}
