using System.Diagnostics;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.Node.Tests;

/// <summary>Bad configuration fails at start with one line on stderr that names the key.</summary>
public sealed class NodeStartupSpec(ITestOutputHelper output)
{
    public static TheoryData<string[], string, string> BadConfigurations => new()
    {
        { ["--port", "70000"], "", "ActorGrid:Port" },
        { ["--port", "abc"], "", "ActorGrid:Port" },
        { [], "ActorGrid__Kv__Partitions=0", "ActorGrid:Kv:Partitions" },
        { ["--seed", "no-port-here"], "", "ActorGrid:Seeds:0" },
        { ["--frobnicate"], "", "--frobnicate" },
        { ["--data"], "", "--data" },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public async Task Bad_configuration_fails_fast_with_one_line_naming_the_key(string[] args, string environment, string key)
    {
        var env = environment.Length == 0
            ? new Dictionary<string, string>()
            : new Dictionary<string, string> { [environment.Split('=')[0]] = environment.Split('=')[1] };

        var clock = Stopwatch.StartNew();
        await using var node = NodeProcess.Start(new NodeProcessOptions { ExtraArgs = args, Environment = env });
        var exitCode = await node.WaitForExitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"exit code {exitCode} after {clock.Elapsed.TotalSeconds:0.0}s: {string.Join(" | ", node.StandardError)}");

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(node.StandardError);
        Assert.Contains(key, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Protected_mode_refuses_a_non_loopback_hostname_without_security_and_starts_with_insecure()
    {
        await using (var refused = NodeProcess.Start(new NodeProcessOptions { ExtraArgs = ["--hostname", "0.0.0.0"] }))
        {
            var exitCode = await refused.WaitForExitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"without security: exit code {exitCode}: {string.Join(" | ", refused.StandardError)}");
            Assert.Equal(2, exitCode);
            var line = Assert.Single(refused.StandardError);
            Assert.Contains("ActorGrid:Security", line, StringComparison.Ordinal);
        }

        await using var insecure = NodeProcess.Start(new NodeProcessOptions
        {
            ExtraArgs = ["--hostname", "0.0.0.0", "--ActorGrid:PublicHostname=127.0.0.1", "--insecure"],
        });
        var ready = await insecure.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"with --insecure: ready after {ready.TotalSeconds:0.0}s");
    }
}
