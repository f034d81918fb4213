using System.Diagnostics;
using ActorGrid.Client;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Histories;
using Xunit.Abstractions;

namespace ActorGrid.MapReduce.Tests;

/// <summary>
/// Jobs over KV data keep going when nodes die (the coordinator's node, or a worker's, which also owns KV partitions
/// and reduce partitions): the result equals the single-process reference, and the counters show that only the
/// attempts running on the dead node were run again — never the whole job.
/// </summary>
public sealed class MapReduceFaultSpec(ITestOutputHelper output)
{
    private const int SlotsPerNode = 2;

    [Fact]
    public async Task A_job_survives_the_crash_of_the_node_running_its_coordinator()
    {
        await using var cluster = await StartAsync();
        var documents = await KvData.StoreAsync(cluster.Nodes[0], "docs/", Reference.Documents(3_000_000, 4000, seed: 7));
        var jobId = await SubmitAsync(cluster);

        var before = await JobWatch.UntilAsync(cluster, jobId, s => s.Progress.MapTasks.Completed >= s.Progress.MapTasks.Total / 4 && s.Progress.MapTasks.Total > 0,
            TimeSpan.FromSeconds(30), "a quarter of the map tasks to complete");
        Assert.True(before.Progress.MapTasks.Completed < before.Progress.MapTasks.Total, "the map phase ended before the crash");
        var victim = IndexOf(cluster, before.Coordinator!);
        output.WriteLine($"crashing node{victim}, the coordinator, at map {before.Progress.MapTasks.Completed}/{before.Progress.MapTasks.Total}");
        var clock = Stopwatch.StartNew();
        await cluster.CrashAsync(victim);

        var after = await JobWatch.UntilAsync(cluster, jobId, s => s.State == "Completed", TimeSpan.FromSeconds(60), "the job to complete on the survivors");
        output.WriteLine($"completed {clock.Elapsed.TotalSeconds:0.0}s after the crash on {after.Coordinator}: {Counters(after)}");

        Assert.NotEqual(before.Coordinator, after.Coordinator);
        AssertNoWholeJobRestart(after);
        Assert.Equal(documents.Count, after.Counter("mapInputRecords"));
        ResultChecker.Compare(Reference.WordCount(documents.Values), await JobWatch.ResultAsync(cluster, jobId)).AssertValid();
    }

    [Fact]
    public async Task A_job_survives_the_crash_of_a_worker_node_mid_map()
    {
        await using var cluster = await StartAsync();
        var documents = await KvData.StoreAsync(cluster.Nodes[0], "docs/", Reference.Documents(3_000_000, 4000, seed: 11));
        var jobId = await SubmitAsync(cluster);

        var before = await JobWatch.UntilAsync(cluster, jobId, s => s.Progress.MapTasks.Completed >= s.Progress.MapTasks.Total / 4 && s.Progress.MapTasks.Total > 0,
            TimeSpan.FromSeconds(30), "a quarter of the map tasks to complete");
        Assert.True(before.Progress.MapTasks.Completed < before.Progress.MapTasks.Total, "the map phase ended before the crash");
        var victim = Enumerable.Range(0, cluster.Nodes.Count).First(i => cluster.Nodes[i].Address.ToString() != before.Coordinator);
        output.WriteLine($"crashing node{victim}, a worker, at map {before.Progress.MapTasks.Completed}/{before.Progress.MapTasks.Total}");
        await cluster.CrashAsync(victim);

        var after = await JobWatch.UntilAsync(cluster, jobId, s => s.State == "Completed", TimeSpan.FromSeconds(60), "the job to complete on the survivors");
        output.WriteLine($"completed: {Counters(after)}");

        Assert.Equal(before.Coordinator, after.Coordinator);
        // The attempts the dead worker was running end as lost, and run again elsewhere: retried once the node is
        // removed, or already copied speculatively while it was unreachable.
        Assert.True(after.Counter("failedAttempts") >= 1, "no attempt was lost with the crashed worker");
        Assert.True(after.Counter("retriedAttempts") + after.Counter("speculativeAttempts") >= 1, "the attempts running on the crashed worker were not run again");
        AssertNoWholeJobRestart(after);
        Assert.Equal(documents.Count, after.Counter("mapInputRecords"));
        ResultChecker.Compare(Reference.WordCount(documents.Values), await JobWatch.ResultAsync(cluster, jobId)).AssertValid();
    }

    private static void AssertNoWholeJobRestart(JobStatus status)
    {
        var tasks = status.Progress.MapTasks.Total;
        // Every task ran once, plus re-runs of what the dead node was running (at most its slots) and speculative copies.
        Assert.Equal(tasks, status.Counter("mapAttempts") - status.Counter("retriedAttempts") - status.Counter("speculativeAttempts"));
        Assert.InRange(status.Counter("retriedAttempts"), 0, SlotsPerNode + status.Counter("failedAttempts"));
        Assert.True(status.Counter("mapAttempts") < 2 * tasks, $"{status.Counter("mapAttempts")} map attempts for {tasks} tasks");
    }

    private async Task<GridTestCluster> StartAsync() =>
        await GridTestCluster.StartAsync(
            3,
            grid => grid.WithKeyValue().WithMapReduce(
                jobs => jobs.Add<PacedWordCountJob>(PacedWordCountJob.Name),
                MapReduceProtocol.Settings.Default(2) with { MapSlotsPerNode = SlotsPerNode, WorkerConcurrency = SlotsPerNode, KvSplitsPerNode = 6 }),
            new GridTestClusterOptions { Log = output.WriteLine });

    // About 18 map tasks of ~40 documents, 30 ms each: the map phase lasts a few seconds.
    private static async Task<string> SubmitAsync(GridTestCluster cluster)
    {
        using var parameters = System.Text.Json.JsonDocument.Parse("""{"delayMs":30}""");
        return await cluster.Nodes[0].Client.Jobs.SubmitAsync(
            new JobRequest(PacedWordCountJob.Name, JobInput.FromKvPrefix("docs/"), Reducers: 3, Parameters: parameters.RootElement.Clone()));
    }

    private static int IndexOf(GridTestCluster cluster, string address) =>
        Enumerable.Range(0, cluster.Nodes.Count).Single(i => cluster.Nodes[i].Address.ToString() == address);

    private static string Counters(JobStatus status) => string.Join(", ", status.Counters.Select(c => $"{c.Key}={c.Value}"));
}
