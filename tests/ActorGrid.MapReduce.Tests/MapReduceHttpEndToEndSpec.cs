using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ActorGrid.Cli;
using ActorGrid.TestKit.Histories;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.MapReduce.Tests;

/// <summary>
/// Two real node processes on one data folder, driven over HTTP and through the <c>actorgrid</c> CLI: run a job with
/// a progress bar, read its result, list, and the clear 4xx answers to bad jobs.
/// </summary>
public sealed class MapReduceHttpEndToEndSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("actorgrid-mr-e2e-").FullName;
    private readonly List<NodeProcess> _nodes = [];

    [Fact]
    public async Task Jobs_run_through_the_cli_and_the_http_api_of_real_nodes()
    {
        var (first, second) = await StartTwoNodesAsync();
        var documents = Reference.Documents(200_000, 1500, seed: 3);
        var file = Path.Combine(_data, "input.txt");
        await File.WriteAllTextAsync(file, string.Join("\n", documents));

        // Submit through the CLI on one node, wait with the progress bar.
        var run = await CliAsync("job", "run", "wordcount", "--text-file", file, "--reducers", "3", "--wait", "--node", first.HttpUri.ToString());
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Completed", run.Stdout);
        Assert.Contains("reduceOutputRecords", run.Stdout);

        // Find it in the list of the other node and read the whole result there.
        var list = await CliAsync("job", "list", "--json", "--node", second.HttpUri.ToString());
        Assert.True(list.ExitCode == 0, list.Stderr);
        var jobId = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("items")[0].GetProperty("jobId").GetString()!;
        var result = await CliAsync("job", "result", jobId, "--all", "--limit", "500", "--json", "--node", second.HttpUri.ToString());
        Assert.True(result.ExitCode == 0, result.Stderr);
        var actual = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("key").GetString()!, i => i.GetProperty("value").GetString()!);
        ResultChecker.Compare(Reference.WordCount([string.Join("\n", documents)]), actual).AssertValid();

        // Paging over HTTP: sorted by key, next = the last key of a full page.
        var page = await second.Http.GetFromJsonAsync<JsonElement>($"jobs/{jobId}/result?limit=5");
        var keys = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()!).ToList();
        Assert.Equal(actual.Keys.Order(StringComparer.Ordinal).Take(5), keys);
        Assert.Equal(keys[^1], page.GetProperty("next").GetString());

        // Status as SPEC §5 shapes it.
        var status = await first.Http.GetFromJsonAsync<JsonElement>($"jobs/{jobId}");
        Assert.Equal("Completed", status.GetProperty("state").GetString());
        Assert.Equal(3, status.GetProperty("progress").GetProperty("reduceTasks").GetProperty("completed").GetInt32());
        Assert.Equal(actual.Count, status.GetProperty("counters").GetProperty("reduceOutputRecords").GetInt64());

        // A completed job cannot be cancelled; an unknown one is 404; both in one line with the server's detail.
        var cancel = await CliAsync("job", "cancel", jobId, "--node", first.HttpUri.ToString());
        Assert.Equal(GridCli.Failed, cancel.ExitCode);
        Assert.StartsWith("error: 409", Assert.Single(Lines(cancel.Stderr)));
        var unknown = await CliAsync("job", "status", "no-such-job", "--node", first.HttpUri.ToString());
        Assert.StartsWith("error: 404", Assert.Single(Lines(unknown.Stderr)));
    }

    [Fact]
    public async Task Bad_jobs_get_a_clear_4xx_and_nothing_runs()
    {
        var (first, _) = await StartTwoNodesAsync();

        var missingPattern = await CliAsync("job", "run", "grep", "--text", "a\nb", "--node", first.HttpUri.ToString());
        Assert.Equal(GridCli.Failed, missingPattern.ExitCode);
        Assert.Equal("error: 400 Bad request: grep: parameters.pattern is required (a non-empty string)", Assert.Single(Lines(missingPattern.Stderr)));

        var badRegex = await CliAsync("job", "run", "grep", "--text", "a", "--param", "pattern=(unclosed", "--node", first.HttpUri.ToString());
        Assert.Contains("not a valid regular expression", Assert.Single(Lines(badRegex.Stderr)));

        foreach (var (body, expected) in new[]
                 {
                     ("""{"type":"nope","input":{"text":"a"}}""", HttpStatusCode.BadRequest),
                     ("""{"type":"wordcount","input":{"text":""}}""", HttpStatusCode.BadRequest),
                     ("""{"type":"wordcount","input":{"text":"a"},"reducers":0}""", HttpStatusCode.BadRequest),
                     ("""{"type":"wordcount","input":{"text":"a"},"reducers":100000}""", HttpStatusCode.BadRequest),
                     ("""{"type":"count-by","input":{"text":"a"}}""", HttpStatusCode.BadRequest),
                     ("{\"type\":\"wordcount\",\"input\":{\"text\":\"a\"", HttpStatusCode.BadRequest),
                 })
        {
            using var response = await first.Http.PostAsync("jobs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(expected, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var list = await first.Http.GetFromJsonAsync<JsonElement>("jobs");
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
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

    private async Task<(NodeProcess First, NodeProcess Second)> StartTwoNodesAsync()
    {
        var first = Track(NodeProcess.Start(new NodeProcessOptions { Name = "node-1", DataDir = _data }));
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        var second = Track(NodeProcess.Start(new NodeProcessOptions { Name = "node-2", DataDir = _data, Seeds = [first.SeedAddress] }));
        await Task.WhenAll(first.WaitForMembersAsync([first, second], TimeSpan.FromSeconds(90)), second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)));
        return (first, second);
    }

    private NodeProcess Track(NodeProcess node)
    {
        _nodes.Add(node);
        return node;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await ActorGridCli.RunAsync(args, new InvocationConfiguration { Output = stdout, Error = stderr });
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
