using ActorGrid.Client;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Histories;
using Xunit.Abstractions;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Jobs on a three-node in-process grid, checked against single-process reference computations.</summary>
public sealed class MapReduceClusterSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Word_count_over_text_equals_the_reference()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithMapReduce(), new GridTestClusterOptions { Log = output.WriteLine });
        var text = string.Join("\n", Reference.Documents(600_000, 2000));
        var client = cluster.Nodes[1].Client.Jobs;

        var jobId = await client.SubmitAsync(new JobRequest("wordcount", JobInput.FromText(text), Reducers: 3));
        var status = await client.WaitAsync(jobId).WaitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine($"{status.State}: {string.Join(", ", status.Counters.Select(c => $"{c.Key}={c.Value}"))}");
        Assert.Equal("Completed", status.State);
        var actual = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var item in client.ReadResultAsync(jobId, pageSize: 700))
        {
            actual.Add(item.Key, item.Value);
        }

        var check = ResultChecker.Compare(Reference.WordCount([text]), actual);
        check.AssertValid();
    }
}
