using System.Diagnostics;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.Kafka.Tests;

/// <summary>The real <c>kcat</c> (Debian package <c>kcat</c>) against two real node processes.</summary>
public sealed class KcatSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "actorgrid-kcat-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<NodeProcess> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        NodeProcess.TryDelete(_data);
    }

    [Fact]
    public async Task Kcat_produces_keyed_messages_through_one_node_lists_metadata_and_consumes_them_with_a_group_through_another()
    {
        var first = Start(new NodeProcessOptions { Name = "node-1", DataDir = _data });
        await first.WaitUntilReadyAsync(Timeout);
        var second = Start(new NodeProcessOptions { Name = "node-2", DataDir = _data, Seeds = [first.SeedAddress] });
        await second.WaitUntilReadyAsync(Timeout);
        await first.WaitForMembersAsync([first, second], Timeout);

        var lines = Enumerable.Range(0, 20).Select(i => $"user-{i % 4}:event-{i}").ToList();
        var (produced, _) = await KcatAsync($"-b 127.0.0.1:{first.KafkaPort} -P -t events -K: -X topic.request.required.acks=-1", string.Join('\n', lines) + "\n");
        Assert.Equal(0, produced);

        var (listed, metadata) = await KcatAsync($"-b 127.0.0.1:{second.KafkaPort} -L -t events");
        Assert.Equal(0, listed);
        Assert.Contains("2 brokers:", metadata, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{first.KafkaPort}", metadata, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{second.KafkaPort}", metadata, StringComparison.Ordinal);
        Assert.Contains("topic \"events\" with 1 partitions", metadata, StringComparison.Ordinal);

        var (consumedExit, consumed) = await KcatAsync($"-b 127.0.0.1:{second.KafkaPort} -G audit events -o beginning -e -f %k=%s\\n");
        Assert.Equal(0, consumedExit);
        var records = consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains('=', StringComparison.Ordinal)).ToList();
        Assert.Equal(lines.Select(l => l.Replace(':', '=')), records);

        // The group's committed offsets are the HTTP API's too.
        await Eventually.AwaitAsync(async () =>
        {
            var view = await first.Http.GetStringAsync("/groups/audit");
            return view.Contains("\"committed\":20", StringComparison.Ordinal) ? null : view;
        }, Timeout, "kcat's commit shows in GET /groups/audit");
    }

    private NodeProcess Start(NodeProcessOptions options)
    {
        var node = NodeProcess.Start(options with { ExtraArgs = ["--ActorGrid:Kv:Partitions=4"] });
        _nodes.Add(node);
        return node;
    }

    private async Task<(int Exit, string Output)> KcatAsync(string arguments, string? input = null)
    {
        var start = new ProcessStartInfo("kcat", arguments) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(timeout.Token);
        output.WriteLine($"$ kcat {arguments}\n{await stdout}{await stderr}");
        return (process.ExitCode, await stdout + await stderr);
    }
}
