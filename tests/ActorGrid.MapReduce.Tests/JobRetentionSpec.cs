using System.Net;
using ActorGrid.Client;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Xunit.Abstractions;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Tests;

/// <summary><c>MapReduce:JobRetention</c>: a finished job, its reduce outputs and its index entry are deleted after it.</summary>
public sealed class JobRetentionSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_finished_job_expires_after_the_retention_with_its_result_and_index_entry()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithMapReduce(), new GridTestClusterOptions
        {
            Log = output.WriteLine,
            Configure = (_, o) => o with { MapReduce = o.MapReduce with { JobRetention = TimeSpan.FromSeconds(3) } },
        });
        var jobs = cluster[0].Client.Jobs;
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

        // The id is free again.
        Assert.Equal(jobId, await jobs.SubmitAsync(new JobRequest("wordcount", JobInput.FromText("again"), Reducers: 1, JobId: jobId)));
    }
}
