using System.Net;
using ActorGrid.Client;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Xunit.Abstractions;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Reads of unknown jobs start nothing; <c>MapReduce:JobRetention</c>: a finished job, its reduce outputs and its index entry are deleted after it.</summary>
public sealed class JobRetentionSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Unknown_jobs_are_404_without_a_coordinator_and_a_finished_job_expires_with_its_result_and_index_entry()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithMapReduce(), new GridTestClusterOptions
        {
            Log = output.WriteLine,
            Configure = (_, o) => o with { MapReduce = o.MapReduce with { JobRetention = TimeSpan.FromSeconds(3) } },
        });
        var jobs = cluster[0].Client.Jobs;

        // Reads of unknown jobs answer 404 without starting (or journaling) a coordinator.
        for (var i = 0; i < 20; i++)
        {
            foreach (var read in new Func<Task>[] { () => jobs.GetAsync($"ghost-{i}"), () => jobs.GetResultAsync($"ghost-{i}"), () => jobs.CancelAsync($"ghost-{i}") })
            {
                Assert.Equal(HttpStatusCode.NotFound, Assert.IsType<ActorGridException>(await Record.ExceptionAsync(read)).Status);
            }
        }

        var coordinators = ClusterSharding.Get(cluster[0].System).ShardRegion(CoordinatorTypeName);
        var started = await coordinators.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
        Assert.Empty(started.Shards.SelectMany(s => s.EntityIds));

        var jobId = await jobs.SubmitAsync(new JobRequest("wordcount", JobInput.FromText("to be or not to be"), Reducers: 2, JobId: "short-lived"));
        var done = await JobWatch.UntilAsync(cluster, jobId, s => s.IsFinished, TimeSpan.FromSeconds(30), "the job to finish");
        Assert.Equal("Completed", done.State);
        Assert.Equal("2", (await JobWatch.ResultAsync(cluster, jobId))["be"]);

        await Eventually.AwaitAsync(async () =>
        {
            var error = await Record.ExceptionAsync(() => jobs.GetAsync(jobId));
            return error is ActorGridException { Status: HttpStatusCode.NotFound } ? null : $"still readable ({error?.Message ?? "200"})";
        }, TimeSpan.FromSeconds(30), "the job to expire");

        var result = await Record.ExceptionAsync(() => jobs.GetResultAsync(jobId));
        Assert.Equal(HttpStatusCode.NotFound, Assert.IsType<ActorGridException>(result).Status);
        await Eventually.AwaitAsync(async () => (await jobs.ListAsync()).Any(j => j.JobId == jobId) ? "still listed" : null,
            TimeSpan.FromSeconds(10), "the job to leave the index");

        // The reduce partitions deleted their output (and the coordinator its journal: it recovers as an unknown job).
        var reducers = ClusterSharding.Get(cluster[0].System).ShardRegion(ReducerTypeName);
        for (var r = 0; r < 2; r++)
        {
            var page = await reducers.Ask<ResultPageReply>(new GetResultPage($"{jobId}.{r}", null, 100), TimeSpan.FromSeconds(10));
            Assert.Empty(page.Items);
        }

        // The id is free again (once the deletion has finished).
        await Eventually.AwaitAsync(async () =>
        {
            var error = await Record.ExceptionAsync(() => jobs.SubmitAsync(new JobRequest("wordcount", JobInput.FromText("again"), Reducers: 1, JobId: jobId)));
            return error is null ? null : error.Message;
        }, TimeSpan.FromSeconds(10), "the id to be accepted again");
        Assert.Equal("Completed", (await JobWatch.UntilAsync(cluster, jobId, s => s.IsFinished, TimeSpan.FromSeconds(30), "the new job to finish")).State);
    }
}
