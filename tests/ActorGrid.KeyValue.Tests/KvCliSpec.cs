using System.CommandLine;
using System.Text.Json;
using ActorGrid.Cli;
using ActorGrid.TestKit;
using Xunit.Abstractions;

namespace ActorGrid.KeyValue.Tests;

/// <summary><c>actorgrid kv get|put|delete|scan</c> against a real node.</summary>
public sealed class KvCliSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Kv_verbs_put_get_scan_and_delete_and_fail_with_one_line()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue(), new GridTestClusterOptions { Log = output.WriteLine });
        var node = cluster[0].HttpAddress.ToString();

        var put = await RunAsync("kv", "put", "cli/a b", "hello", "--node", node);
        Assert.Equal((0, "cli/a b version 1"), (put.ExitCode, put.Stdout.Trim()));

        var cas = await RunAsync("kv", "put", "cli/a b", "again", "--if-version", "7", "--node", node);
        Assert.Equal(GridCli.Conflict, cas.ExitCode);
        Assert.StartsWith("error: 412", cas.Stderr);
        Assert.Single(cas.Stderr.Trim().Split('\n'));

        await RunAsync("kv", "put", "cli/c", "x", "--if-absent", "--ttl", "60", "--node", node);
        var get = await RunAsync("kv", "get", "cli/a b", "--node", node);
        Assert.Equal((0, "hello"), (get.ExitCode, get.Stdout.Trim()));

        var scan = await RunAsync("kv", "scan", "cli/", "--json", "--node", node);
        Assert.Equal(0, scan.ExitCode);
        var keys = JsonDocument.Parse(scan.Stdout).RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()).ToList();
        Assert.Equal(["cli/a b", "cli/c"], keys);

        var delete = await RunAsync("kv", "delete", "cli/a b", "--node", node);
        Assert.Equal(0, delete.ExitCode);
        var missing = await RunAsync("kv", "get", "cli/a b", "--node", node);
        Assert.Equal(GridCli.NotFound, missing.ExitCode);
        Assert.Equal("error: key 'cli/a b' does not exist", missing.Stderr.Trim());
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await ActorGridCli.RunAsync(args, new InvocationConfiguration { Output = stdout, Error = stderr });
        return (exitCode, stdout.ToString(), stderr.ToString());
    }
}
