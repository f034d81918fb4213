using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ActorGrid.Cli;
using ActorGrid.TestKit.Histories;
using ActorGrid.TestKit.Processes;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Two real node processes on one data folder (shared by the specs of <see cref="MapReduceHttpEndToEndSpec"/>).</summary>
public sealed class TwoNodeProcesses : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("actorgrid-mr-e2e-").FullName;

    public NodeProcess First { get; private set; } = null!;

    public NodeProcess Second { get; private set; } = null!;

    public string DataDir => _data;

    public async Task InitializeAsync()
    {
        First = NodeProcess.Start(new NodeProcessOptions { Name = "node-1", DataDir = _data });
        await First.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        Second = NodeProcess.Start(new NodeProcessOptions { Name = "node-2", DataDir = _data, Seeds = [First.SeedAddress] });
        await Task.WhenAll(First.WaitForMembersAsync([First, Second], TimeSpan.FromSeconds(90)), Second.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)));
    }

    public async Task DisposeAsync()
    {
        await First.DisposeAsync();
        await Second.DisposeAsync();
        NodeProcess.TryDelete(_data);
    }
}

/// <summary>
/// The real node binary driven over HTTP and through the <c>actorgrid</c> CLI: claps per day in April from KV data
/// into KV, a chained job on that output, result paging, listing, and the clear 4xx answers to bad jobs.
/// </summary>
public sealed class MapReduceHttpEndToEndSpec(TwoNodeProcesses nodes, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<TwoNodeProcesses>
{
    [Fact]
    public async Task Claps_per_day_in_april_run_through_the_cli_from_kv_into_kv_and_chain()
    {
        var (first, second) = (nodes.First, nodes.Second);

        // Claps of March, April and May, one JSON object per key; keys start with the date so April is one prefix.
        var random = new Random(5);
        var expected = new Dictionary<string, int>(StringComparer.Ordinal);
        var puts = new List<Task>();
        for (var i = 0; i < 600; i++)
        {
            var day = new DateOnly(2025, 3, 20).AddDays(random.Next(45));
            var date = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            puts.Add(second.Client.Kv.PutAsync($"claps/{date}/{i:D4}", $$"""{"user":"u{{random.Next(50)}}","date":"{{date}}","post":"p{{random.Next(9)}}"}"""));
            if (day.Month == 4)
            {
                expected[date] = expected.GetValueOrDefault(date) + 1;
            }
        }

        await Task.WhenAll(puts);

        var run = await CliAsync("job", "run", "count-by", "--kv-prefix", "claps/2025-04-", "--param", "field=date", "--output-prefix", "claps-per-day/",
            "--reducers", "3", "--id", "april", "--wait", "--node", first.HttpUri.ToString());
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Completed", run.Stdout);
        Assert.Contains("dataLocalMapTasks", run.Stdout);

        var result = await CliAsync("job", "result", "april", "--all", "--limit", "7", "--json", "--node", second.HttpUri.ToString());
        Assert.True(result.ExitCode == 0, result.Stderr);
        var perDay = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("key").GetString()!, i => i.GetProperty("value").GetString()!);
        var reference = expected.ToDictionary(e => e.Key, e => e.Value.ToString(CultureInfo.InvariantCulture));
        ResultChecker.Compare(reference, perDay).AssertValid();
        Assert.Equal(30, perDay.Count);

        // The output is in the KV store, and the next job reads it: on how many April days were there N claps.
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var item in first.Client.Kv.ScanAllAsync("claps-per-day/"))
        {
            stored[item.Key["claps-per-day/".Length..]] = System.Text.Encoding.UTF8.GetString(item.Value);
        }

        ResultChecker.Compare(reference, stored).AssertValid();
        var chained = await CliAsync("job", "run", "wordcount", "--kv-prefix", "claps-per-day/", "--reducers", "2", "--wait", "--json", "--node", second.HttpUri.ToString());
        Assert.True(chained.ExitCode == 0, chained.Stderr);
        var chainedId = JsonDocument.Parse(chained.Stdout).RootElement.GetProperty("jobId").GetString()!;
        var histogram = await second.Http.GetFromJsonAsync<JsonElement>($"jobs/{chainedId}/result?limit=1000");
        Assert.Equal(
            reference.Values.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count().ToString(CultureInfo.InvariantCulture)),
            histogram.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("key").GetString()!, i => i.GetProperty("value").GetString()!));

        // Paging over HTTP: sorted by key, next = the last key of a full page.
        var page = await second.Http.GetFromJsonAsync<JsonElement>("jobs/april/result?limit=5");
        var keys = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("key").GetString()!).ToList();
        Assert.Equal(reference.Keys.Order(StringComparer.Ordinal).Take(5), keys);
        Assert.Equal(keys[^1], page.GetProperty("next").GetString());

        // Status as SPEC §5 shapes it, and the job list of the other node.
        var status = await first.Http.GetFromJsonAsync<JsonElement>("jobs/april");
        Assert.Equal("Completed", status.GetProperty("state").GetString());
        Assert.Equal(3, status.GetProperty("progress").GetProperty("reduceTasks").GetProperty("completed").GetInt32());
        Assert.Equal(expected.Values.Sum(), status.GetProperty("counters").GetProperty("mapInputRecords").GetInt64());
        var list = await CliAsync("job", "list", "--node", second.HttpUri.ToString());
        Assert.Contains("april", list.Stdout);
        Assert.Contains(chainedId, list.Stdout);

        // Resubmitting the same job under its id is idempotent; a different one under it is a conflict.
        var again = await CliAsync("job", "run", "count-by", "--kv-prefix", "claps/2025-04-", "--param", "field=date", "--output-prefix", "claps-per-day/",
            "--reducers", "3", "--id", "april", "--node", second.HttpUri.ToString());
        Assert.Equal(("april", 0), (again.Stdout.Trim(), again.ExitCode));
        var conflict = await CliAsync("job", "run", "wordcount", "--kv-prefix", "claps/", "--id", "april", "--node", second.HttpUri.ToString());
        Assert.StartsWith("error: 409", Assert.Single(Lines(conflict.Stderr)));

        // A completed job cannot be cancelled; an unknown one is 404; both in one line with the server's detail.
        var cancel = await CliAsync("job", "cancel", "april", "--node", first.HttpUri.ToString());
        Assert.Equal(GridCli.Conflict, cancel.ExitCode);
        Assert.StartsWith("error: 409", Assert.Single(Lines(cancel.Stderr)));
        var unknown = await CliAsync("job", "status", "no-such-job", "--node", first.HttpUri.ToString());
        Assert.StartsWith("error: 404", Assert.Single(Lines(unknown.Stderr)));
    }

    [Fact]
    public async Task Word_count_over_inline_text_through_the_cli_equals_the_reference()
    {
        var documents = Reference.Documents(200_000, 1500, seed: 3);
        var file = Path.Combine(nodes.DataDir, "input.txt");
        await File.WriteAllTextAsync(file, string.Join("\n", documents));

        var run = await CliAsync("job", "run", "wordcount", "--text-file", file, "--reducers", "3", "--wait", "--json", "--node", nodes.Second.HttpUri.ToString());
        Assert.True(run.ExitCode == 0, run.Stderr);
        var jobId = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("jobId").GetString()!;

        var result = await CliAsync("job", "result", jobId, "--all", "--json", "--node", nodes.First.HttpUri.ToString());
        var actual = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("key").GetString()!, i => i.GetProperty("value").GetString()!);
        ResultChecker.Compare(Reference.WordCount([string.Join("\n", documents)]), actual).AssertValid();
    }

    [Fact]
    public async Task Bad_jobs_get_a_clear_4xx_and_nothing_runs()
    {
        var first = nodes.First;
        var before = (await first.Http.GetFromJsonAsync<JsonElement>("jobs")).GetProperty("items").GetArrayLength();

        var missingPattern = await CliAsync("job", "run", "grep", "--text", "a\nb", "--node", first.HttpUri.ToString());
        Assert.Equal(GridCli.Usage, missingPattern.ExitCode);
        Assert.Equal("error: 400 Bad request: grep: parameters.pattern is required (a non-empty string)", Assert.Single(Lines(missingPattern.Stderr)));

        var badRegex = await CliAsync("job", "run", "grep", "--text", "a", "--param", "pattern=(unclosed", "--node", first.HttpUri.ToString());
        Assert.Contains("not a valid regular expression", Assert.Single(Lines(badRegex.Stderr)));

        var noTopic = await CliAsync("job", "run", "wordcount", "--topic", "no-such-topic", "--node", first.HttpUri.ToString());
        Assert.StartsWith("error: 400", Assert.Single(Lines(noTopic.Stderr)));

        foreach (var (body, expected) in new[]
                 {
                     ("""{"type":"nope","input":{"text":"a"}}""", HttpStatusCode.BadRequest),
                     ("""{"type":"wordcount","input":{"text":""}}""", HttpStatusCode.BadRequest),
                     ("""{"type":"wordcount","input":{"kvPrefix":""}}""", HttpStatusCode.BadRequest),
                     ("""{"type":"wordcount","input":{"text":"a"},"reducers":0}""", HttpStatusCode.BadRequest),
                     ("""{"type":"wordcount","input":{"text":"a"},"reducers":100000}""", HttpStatusCode.BadRequest),
                     ("""{"type":"count-by","input":{"kvPrefix":"claps/"}}""", HttpStatusCode.BadRequest),
                     ("{\"type\":\"wordcount\",\"input\":{\"text\":\"a\"", HttpStatusCode.BadRequest),
                     ("""{"type":"wordcount","input":{"text":"TEXT"}}""".Replace("TEXT", new string('x', 2_000_000), StringComparison.Ordinal), HttpStatusCode.RequestEntityTooLarge),
                 })
        {
            using var response = await first.Http.PostAsync("jobs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(expected, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var after = (await first.Http.GetFromJsonAsync<JsonElement>("jobs")).GetProperty("items").GetArrayLength();
        Assert.Equal(before, after);
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
