using System.CommandLine;
using System.Text.Json;
using ActorGrid.Cli;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;

namespace ActorGrid.Node.Tests;

/// <summary>The <c>actorgrid</c> CLI run in-process against a real node process.</summary>
public sealed class CliSpec(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    [Fact]
    public async Task Cluster_status_shows_the_member_table()
    {
        var (exitCode, stdout, stderr) = await RunAsync("cluster", "status", "--node", fixture.Node.HttpUri.ToString());

        Assert.True(exitCode == 0, stderr);
        Assert.Empty(stderr);
        var row = Assert.Single(stdout.Split('\n'), l => l.StartsWith('│') && l.Contains(fixture.Node.ClusterAddress, StringComparison.Ordinal));
        Assert.Contains("Up", row, StringComparison.Ordinal);
        Assert.Contains("self, leader", row, StringComparison.Ordinal);
        Assert.Contains("Members: 1 (1 Up)", stdout, StringComparison.Ordinal);
        Assert.Contains("Unreachable: none", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_status_json_is_the_node_answer()
    {
        var (exitCode, stdout, stderr) = await RunAsync("cluster", "status", "--json", "--node", fixture.Node.HttpUri.ToString());

        Assert.True(exitCode == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(fixture.Node.ClusterAddress, json.RootElement.GetProperty("self").GetString());
        var member = Assert.Single(json.RootElement.GetProperty("members").EnumerateArray());
        Assert.Equal("Up", member.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_node_comes_from_ACTORGRID_NODE_when_no_flag_is_given()
    {
        var before = Environment.GetEnvironmentVariable(GridCli.NodeEnvironmentVariable);
        Environment.SetEnvironmentVariable(GridCli.NodeEnvironmentVariable, fixture.Node.HttpUri.ToString());
        try
        {
            var (exitCode, stdout, stderr) = await RunAsync("cluster", "status", "--json");
            Assert.True(exitCode == 0, stderr);
            Assert.Contains(fixture.Node.ClusterAddress, stdout, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(GridCli.NodeEnvironmentVariable, before);
        }
    }

    [Fact]
    public async Task Cluster_shards_succeeds()
    {
        var (exitCode, _, stderr) = await RunAsync("cluster", "shards", "--node", fixture.Node.HttpUri.ToString());
        Assert.True(exitCode == 0, stderr);
    }

    [Fact]
    public async Task An_unreachable_node_fails_with_one_line()
    {
        var nowhere = $"http://127.0.0.1:{FreePorts.Take(1)[0]}";
        var (exitCode, stdout, stderr) = await RunAsync("cluster", "status", "--node", nowhere);

        Assert.NotEqual(0, exitCode);
        Assert.Empty(stdout);
        var line = Assert.Single(Lines(stderr));
        Assert.Contains("connection refused", line, StringComparison.Ordinal);
        Assert.Contains(nowhere, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_problem_answer_fails_with_its_status_in_one_line()
    {
        // A path prefix the node does not serve: every call under it is the node's 404.
        var (exitCode, _, stderr) = await RunAsync("cluster", "status", "--node", new Uri(fixture.Node.HttpUri, "nope/").ToString());

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(Lines(stderr));
        Assert.StartsWith("error: 404", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_node_url_is_a_usage_error_in_one_line()
    {
        var (exitCode, _, stderr) = await RunAsync("cluster", "status", "--node", "not-a-url");

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(Lines(stderr));
        Assert.Contains("--node", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exit_codes_say_what_kind_of_failure_it_was()
    {
        var node = fixture.Node.HttpUri.ToString();
        var key = "cli-exit/" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await RunAsync("kv", "put", key, "v1", "--node", node)).ExitCode);

        Assert.Equal(GridCli.Usage, (await RunAsync("kv", "get", "--node", node)).ExitCode);
        Assert.Equal(GridCli.Usage, (await RunAsync("kv", "get", key, "--frobnicate", "--node", node)).ExitCode);
        Assert.Equal(GridCli.NotFound, (await RunAsync("kv", "get", key + "-absent", "--node", node)).ExitCode);
        Assert.Equal(GridCli.Conflict, (await RunAsync("kv", "put", key, "v2", "--if-version", "7", "--node", node)).ExitCode);
        Assert.Equal(GridCli.Unavailable, (await RunAsync("cluster", "status", "--node", $"http://127.0.0.1:{FreePorts.Take(1)[0]}")).ExitCode);
        Assert.Equal(GridCli.NotFound, (await RunAsync("cluster", "leave", "akka.tcp://actorgrid@127.0.0.1:1", "--node", node)).ExitCode);
        var (exitCode, _, stderr) = await RunAsync("cluster", "down", "not-an-address", "--node", node);
        Assert.Equal(GridCli.Usage, exitCode);
        Assert.Single(Lines(stderr));
    }

    [Fact]
    public async Task Output_json_is_one_document_of_the_node_answer_and_table_is_the_default()
    {
        var node = fixture.Node.HttpUri.ToString();
        var topic = "cli-output-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await RunAsync("topic", "create", topic, "--partitions", "2", "--node", node)).ExitCode);

        var (listed, listJson, listErr) = await RunAsync("topic", "list", "-o", "json", "--node", node);
        Assert.True(listed == 0, listErr);
        using (var json = JsonDocument.Parse(listJson))
        {
            var entry = Assert.Single(json.RootElement.GetProperty("topics").EnumerateArray(), t => t.GetProperty("name").GetString() == topic);
            Assert.Equal(2, entry.GetProperty("partitions").GetArrayLength());
        }

        var (_, table, _) = await RunAsync("topic", "list", "--node", node);
        Assert.Contains(table.Split('\n'), l => l.StartsWith('│') && l.Contains(topic, StringComparison.Ordinal));
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(table));

        var (sharded, shardsJson, shardsErr) = await RunAsync("cluster", "shards", "--output", "json", "--node", node);
        Assert.True(sharded == 0, shardsErr);
        using (var json = JsonDocument.Parse(shardsJson))
        {
            Assert.Contains(json.RootElement.GetProperty("regions").EnumerateArray(), r => r.GetProperty("role").GetString() == "kv");
        }

        var (bad, badOut, badErr) = await RunAsync("cluster", "status", "-o", "yaml", "--node", node);
        Assert.Equal(GridCli.Usage, bad);
        Assert.Empty(badOut);
        Assert.Contains("yaml", Assert.Single(Lines(badErr)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Topic_delete_and_the_group_verbs_administer_a_group_and_exit_with_what_went_wrong()
    {
        var node = fixture.Node.HttpUri.ToString();
        var id = Guid.NewGuid().ToString("N")[..8];
        var (topic, group) = ($"cli-admin-{id}", $"cli-admin-group-{id}");
        Assert.Equal(0, (await RunAsync("topic", "create", topic, "--partitions", "2", "--node", node)).ExitCode);
        // One key: all six records in one partition.
        Assert.Equal(0, (await RunAsync("produce", topic, "a", "b", "c", "d", "e", "f", "--key", "k", "--node", node)).ExitCode);
        var (consumed, _, consumeErr) = await RunAsync("consume", topic, "--group", group, "--max-records", "4", "--node", node);
        Assert.True(consumed == 0, consumeErr);

        async Task<long> LagAsync()
        {
            var (exit, stdout, stderr) = await RunAsync("group", "describe", group, "-o", "json", "--node", node);
            Assert.True(exit == 0, stderr);
            using var json = JsonDocument.Parse(stdout);
            return json.RootElement.GetProperty("totalLag").GetInt64();
        }

        var (listed, listJson, listErr) = await RunAsync("group", "list", "-o", "json", "--node", node);
        Assert.True(listed == 0, listErr);
        using (var json = JsonDocument.Parse(listJson))
        {
            var entry = Assert.Single(json.RootElement.GetProperty("groups").EnumerateArray(), g => g.GetProperty("group").GetString() == group);
            Assert.Equal(2, entry.GetProperty("totalLag").GetInt64());
        }

        var (_, listTable, _) = await RunAsync("group", "list", "--node", node);
        Assert.Contains(listTable.Split('\n'), l => l.StartsWith('│') && l.Contains(group, StringComparison.Ordinal) && l.Contains(topic, StringComparison.Ordinal));
        var (_, described, _) = await RunAsync("group", "describe", group, "--node", node);
        Assert.Contains("Lag: 2", described, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("group", "reset-offsets", group, "--to", "earliest", "--node", node)).ExitCode);
        Assert.Equal(6, await LagAsync());
        var (_, latest, _) = await RunAsync("group", "reset-offsets", group, "--to", "latest", "--node", node);
        Assert.Contains("to latest", latest, StringComparison.Ordinal);
        Assert.Equal(0, await LagAsync());
        Assert.Equal(0, (await RunAsync("group", "reset-offsets", group, "--to", "timestamp", "--timestamp", "0", "--node", node)).ExitCode);
        Assert.Equal(6, await LagAsync());
        Assert.Equal(0, (await RunAsync("group", "reset-offsets", group, "--to", "timestamp", "--timestamp", "2100-01-01T00:00:00Z", "--node", node)).ExitCode);
        Assert.Equal(0, await LagAsync());
        Assert.Equal(GridCli.Usage, (await RunAsync("group", "reset-offsets", group, "--to", "timestamp", "--node", node)).ExitCode);
        Assert.Equal(GridCli.Usage, (await RunAsync("group", "reset-offsets", group, "--to", "yesterday", "--node", node)).ExitCode);

        // A live member: the offsets stay as they are and the group stays.
        var member = await fixture.Node.Client.Broker.JoinGroupAsync(group, [topic]);
        var (busy, _, busyErr) = await RunAsync("group", "reset-offsets", group, "--to", "earliest", "--node", node);
        Assert.Equal(GridCli.Conflict, busy);
        Assert.StartsWith("error: 409", Assert.Single(Lines(busyErr)), StringComparison.Ordinal);
        Assert.Equal(GridCli.Conflict, (await RunAsync("group", "delete", group, "--node", node)).ExitCode);
        await fixture.Node.Client.Broker.LeaveGroupAsync(group, member.MemberId);

        var (deleted, deletedOut, deleteErr) = await RunAsync("group", "delete", group, "--node", node);
        Assert.True(deleted == 0, deleteErr);
        Assert.Contains($"deleted group {group}", deletedOut, StringComparison.Ordinal);
        var (_, afterDelete, _) = await RunAsync("group", "list", "-o", "json", "--node", node);
        Assert.DoesNotContain(group, afterDelete, StringComparison.Ordinal);

        var (topicDeleted, _, topicDeleteErr) = await RunAsync("topic", "delete", topic, "--node", node);
        Assert.True(topicDeleted == 0, topicDeleteErr);
        Assert.Equal(GridCli.NotFound, (await RunAsync("topic", "describe", topic, "--node", node)).ExitCode);
        Assert.Equal(GridCli.NotFound, (await RunAsync("topic", "delete", topic, "--node", node)).ExitCode);
    }

    [Fact]
    public async Task Cluster_down_removes_a_member_and_leave_makes_one_leave()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, _ => { });
        var via = cluster[0].HttpAddress.ToString();

        var (downed, downOut, downErr) = await RunAsync("cluster", "down", cluster[2].Address.ToString(), "--node", via);
        Assert.True(downed == 0, downErr);
        Assert.Contains("down requested", downOut, StringComparison.Ordinal);
        await Eventually.AwaitAsync(() => cluster[2].IsRunning ? "node2 still runs" : null, TimeSpan.FromSeconds(30), "the downed node to stop");

        var (left, _, leaveErr) = await RunAsync("cluster", "leave", cluster[1].Address.ToString(), "--node", via, "--json");
        Assert.True(left == 0, leaveErr);
        await Eventually.AwaitAsync(() => cluster[1].IsRunning ? "node1 still runs" : null, TimeSpan.FromSeconds(30), "the leaving node to stop");
        await cluster.WaitForUpAsync(1);
    }

    /// <summary>Runs the CLI in this process with <paramref name="args"/>, capturing what it prints.</summary>
    internal static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await ActorGridCli.RunAsync(args, new InvocationConfiguration { Output = stdout, Error = stderr });
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
