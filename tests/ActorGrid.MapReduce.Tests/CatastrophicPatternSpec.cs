using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using ActorGrid.Client;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using Akka.Cluster;
using Xunit.Abstractions;

namespace ActorGrid.MapReduce.Tests;

/// <summary>
/// A grep job with a pattern that backtracks exponentially (<c>^(a+)+$</c> on "aaa…a!") over 6 MB of input on three
/// nodes: it finishes within a bounded CPU budget, and no node ever sees another as unreachable or takes a
/// split-brain decision — map work neither hangs nor starves the threads that carry heartbeats (issue 14).
/// </summary>
public sealed class CatastrophicPatternSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_catastrophic_grep_finishes_in_bounded_cpu_and_no_node_is_downed()
    {
        var alarms = new ConcurrentQueue<string>();
        var watching = false;
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue().WithMapReduce(), new GridTestClusterOptions
        {
            Log = line =>
            {
                // From the job's start: the machine may be loaded by others while the data is stored.
                if (Volatile.Read(ref watching) && (line.Contains("as UNREACHABLE", StringComparison.Ordinal)
                    || line.Contains("SBR took decision", StringComparison.Ordinal) || line.Contains("Leader is auto-downing", StringComparison.Ordinal)))
                {
                    alarms.Enqueue(line);
                }

                output.WriteLine(line);
            },
        });
        var documents = Enumerable.Range(0, 3000).Select(i => new string('a', 2000) + (i % 3 == 0 ? "" : "!")).ToList();
        await KvData.StoreAsync(cluster.Nodes[0], "evil/", documents);
        Volatile.Write(ref watching, true);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();

        using var parameters = JsonDocument.Parse("""{"pattern":"^(a+)+$"}""");
        var jobs = cluster.Nodes[1].Client.Jobs;
        var jobId = await jobs.SubmitAsync(new JobRequest("grep", JobInput.FromKvPrefix("evil/"), Reducers: 2, Parameters: parameters.RootElement.Clone()));
        var status = await jobs.WaitAsync(jobId).WaitAsync(TimeSpan.FromSeconds(120));

        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        output.WriteLine($"{status.State} in {clock.Elapsed.TotalSeconds:0.0}s wall, {used.TotalSeconds:0.0}s CPU (three nodes in this process)");
        Assert.Equal("Completed", status.State);
        Assert.Equal("1000", Assert.Single(await JobWatch.ResultAsync(cluster, jobId)).Value);
        Assert.InRange(used, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        Assert.True(alarms.IsEmpty, "a node was seen unreachable or downed: " + string.Join("\n", alarms.Take(5)));
        Assert.All(cluster.Nodes, n => Assert.Equal(3, Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up)));
    }
}
