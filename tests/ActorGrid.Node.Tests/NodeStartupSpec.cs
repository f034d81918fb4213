using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.Node.Tests;

/// <summary>Every failure to start (bad flags or configuration, a port in use, an unreachable journal) is one line on stderr and exit code 2.</summary>
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

        Assert.Equal(2, exitCode);
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

    [Fact]
    public async Task Help_lists_every_flag_and_exits_0()
    {
        await using var node = NodeProcess.Start(new NodeProcessOptions { ExtraArgs = ["--help"] });
        Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var help = node.Diagnostics(200);
        foreach (var flag in new[] { "--port", "--http", "--seed", "--data", "--hostname", "--roles", "--postgres", "--Key:Path=value" })
        {
            Assert.Contains(flag, help, StringComparison.Ordinal);
        }

        Assert.Empty(node.StandardError);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("remoting")]
    public async Task A_port_in_use_fails_with_one_line_and_exit_code_2(string which)
    {
        using var taken = Occupy();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var line = await FailsToStartAsync(which == "http" ? new NodeProcessOptions { HttpPort = port } : new NodeProcessOptions { RemotingPort = port });
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("in use", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_journal_fails_with_one_line_and_exit_code_2()
    {
        using var closed = Occupy();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var line = await FailsToStartAsync(new NodeProcessOptions { ExtraArgs = ["--postgres", $"Host=127.0.0.1;Port={port};Timeout=3"] });
        Assert.Contains("ActorGrid:Persistence:ConnectionString", line, StringComparison.Ordinal);
    }

    private async Task<string> FailsToStartAsync(NodeProcessOptions options)
    {
        await using var node = NodeProcess.Start(options);
        var exitCode = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"exit code {exitCode}: {string.Join(" | ", node.StandardError)}");
        Assert.Equal(2, exitCode);
        return Assert.Single(node.StandardError);
    }

    private static TcpListener Occupy()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }
}
