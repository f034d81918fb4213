using System.Diagnostics;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.Node.Tests;

/// <summary>Real node processes sharing one SQLite journal folder, crashed with SIGKILL and stopped with SIGTERM.</summary>
public sealed class NodeClusterSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Formation = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Removal = TimeSpan.FromSeconds(60);

    private readonly string _data = Directory.CreateTempSubdirectory("actorgrid-data-").FullName;
    private readonly List<NodeProcess> _nodes = [];

    [Fact]
    public async Task Sigterm_makes_a_node_leave_gracefully_and_exit_0()
    {
        var nodes = await StartClusterAsync(3);
        var leaving = nodes[1];

        var clock = Stopwatch.StartNew();
        var exitCode = await leaving.StopAsync(TimeSpan.FromSeconds(45));
        output.WriteLine($"SIGTERMed node exited with {exitCode} after {clock.Elapsed.TotalSeconds:0.0}s");
        Assert.Equal(0, exitCode);

        NodeProcess[] others = [nodes[0], nodes[2]];
        await Task.WhenAll(others.Select(o => o.WaitForMembersAsync(others, Removal)));
        output.WriteLine($"the others saw it removed {clock.Elapsed.TotalSeconds:0.0}s after SIGTERM");
    }

    [Fact]
    public async Task A_node_with_another_partition_count_is_refused_on_the_same_data_folder()
    {
        var first = Track(NodeProcess.Start(new NodeProcessOptions { Name = "node-1", DataDir = _data }));
        await first.WaitUntilReadyAsync(Formation);

        var second = Track(NodeProcess.Start(new NodeProcessOptions
        {
            Name = "node-2",
            DataDir = _data,
            Seeds = [first.SeedAddress],
            ExtraArgs = ["--ActorGrid:Kv:Partitions=8"],
        }));

        var exitCode = await second.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(second.StandardError);
        Assert.Contains("ActorGrid:Kv:Partitions", line, StringComparison.Ordinal);
        output.WriteLine($"refused with exit code {exitCode}: {line}");

        // The refused node never joined: the running cluster is untouched.
        await first.WaitForMembersAsync([first], TimeSpan.FromSeconds(10));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        NodeProcess.TryDelete(_data);
    }

    private async Task<NodeProcess[]> StartClusterAsync(int count)
    {
        // The joiners start once the seed is up: started earlier they wait out a join retry interval instead.
        var first = Track(NodeProcess.Start(new NodeProcessOptions { Name = "node-1", DataDir = _data }));
        await first.WaitUntilReadyAsync(Formation);
        var nodes = new[] { first }
            .Concat(Enumerable.Range(2, count - 1).Select(i => Track(NodeProcess.Start(new NodeProcessOptions
            {
                Name = $"node-{i}",
                DataDir = _data,
                Seeds = [first.SeedAddress],
            }))))
            .ToArray();

        var formed = await Task.WhenAll(nodes.Select(n => n.WaitForMembersAsync(nodes, Formation)));
        output.WriteLine($"{count} node processes formed one cluster in {formed.Max().TotalSeconds:0.0}s");
        return nodes;
    }

    private NodeProcess Track(NodeProcess node)
    {
        _nodes.Add(node);
        return node;
    }
}
