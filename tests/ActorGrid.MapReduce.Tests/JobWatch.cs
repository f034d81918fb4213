using ActorGrid.Client;
using ActorGrid.TestKit;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Follows a job through whichever nodes are running, riding out 503s and timeouts while shards move.</summary>
internal static class JobWatch
{
    public static async Task<JobStatus> UntilAsync(GridTestCluster cluster, string jobId, Func<JobStatus, bool> condition, TimeSpan timeout, string what)
    {
        JobStatus? last = null;
        await Eventually.AwaitAsync(async () =>
        {
            foreach (var node in cluster.Running)
            {
                try
                {
                    last = await node.Client.Jobs.GetAsync(jobId);
                    if (last.IsFinished && !condition(last))
                    {
                        throw new InvalidOperationException($"job {jobId} finished as {last.State} ({last.Error}) before {what}");
                    }

                    return condition(last) ? null : $"{last.State}: map {last.Progress.MapTasks.Completed}/{last.Progress.MapTasks.Total}, reduce {last.Progress.ReduceTasks.Completed}/{last.Progress.ReduceTasks.Total}";
                }
                catch (Exception e) when (e is ActorGridException or HttpRequestException or TaskCanceledException)
                {
                    // That node cannot answer right now; ask the next one.
                }
            }

            return "no node answered";
        }, timeout, what);
        return last!;
    }

    public static async Task<Dictionary<string, string>> ResultAsync(GridTestCluster cluster, string jobId)
    {
        var client = cluster.Running[0].Client.Jobs;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var item in client.ReadResultAsync(jobId, pageSize: 1000))
        {
            result.Add(item.Key, item.Value);
        }

        return result;
    }
}
