using System.Net;
using System.Text;
using System.Text.Json;
using ActorGrid.TestKit;

namespace ActorGrid.Node.Tests;

/// <summary>
/// Regression cases of issue 14 ("hostile input"), each a request a new user sent to one node that got a 500, created
/// something it should not, or left entities behind; the fuzz suite (<see cref="Fuzz.HttpFuzzSpec"/>) found the
/// same and more. Against a real node process.
/// </summary>
public sealed class HostileInputSpec(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    private HttpClient Http => fixture.Node.Http;

    [Fact]
    public async Task A_job_id_with_a_trailing_newline_is_refused_and_no_job_exists()
    {
        await AssertProblem(HttpStatusCode.BadRequest, "jobId must be", Http.PostAsync("jobs", Json("""{"type":"wordcount","jobId":"x\n","input":{"text":"a b"}}""")));
        await AssertProblem(HttpStatusCode.BadRequest, "jobId must be", Http.PostAsync("jobs", Json("""{"type":"wordcount","jobId":"x\r\n","input":{"text":"a b"}}""")));

        var jobs = await GetJsonAsync("jobs");
        Assert.DoesNotContain(jobs.GetProperty("items").EnumerateArray(), j => j.GetProperty("jobId").GetString()!.StartsWith('x'));
        // The map worker was never restarted by an actor name it refused: a job runs to completion.
        var id = await RunJobAsync("""{"type":"wordcount","input":{"text":"b a b"},"reducers":1}""");
        var result = await GetJsonAsync($"jobs/{id}/result");
        Assert.Equal("""[{"key":"a","value":"1"},{"key":"b","value":"2"}]""", result.GetProperty("items").GetRawText());
    }

    [Fact]
    public async Task A_topic_name_with_an_escaped_newline_is_refused_and_not_created()
    {
        await AssertProblem(HttpStatusCode.BadRequest, "topic name", Http.PutAsync("topics/x%0A", Json("""{"partitions":1}""")));
        await AssertProblem(HttpStatusCode.BadRequest, "topic name", Http.PutAsync("topics/x%0D%0A", Json("""{"partitions":1}""")));

        var topics = await GetJsonAsync("topics");
        Assert.DoesNotContain(topics.GetProperty("topics").EnumerateArray(), t => t.GetProperty("name").GetString()!.StartsWith('x'));
    }

    [Theory]
    [InlineData("""{"type":"wordcount","input":{"text":"\ud800"}}""")]
    [InlineData("""{"type":"wordcount","jobId":"\ud800","input":{"text":"a b a"},"reducers":1}""")]
    [InlineData("""{"type":"grep","input":{"text":"a"},"parameters":{"pattern":"\udc00"}}""")]
    public async Task A_lone_surrogate_in_a_job_is_a_400(string body) =>
        await AssertProblem(HttpStatusCode.BadRequest, "", Http.PostAsync("jobs", Json(body)));

    [Fact]
    public async Task Reads_of_absent_groups_answer_404_and_leave_no_entities()
    {
        var before = await EntitiesAsync("broker-group");

        await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
            AssertProblem(HttpStatusCode.NotFound, "has no members", Http.GetAsync($"groups/hostile-absent-{i}"))));
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            // 404 (no such member) or 403 (a member id this caller was not issued): a refusal either way.
            using var poll = await Http.PostAsync($"groups/hostile-poll-{i}/poll", Json("""{"memberId":"m-1"}"""));
            Assert.True(poll.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden, $"poll answered {(int)poll.StatusCode}");
        }));

        await Eventually.AwaitAsync(async () =>
        {
            var now = await EntitiesAsync("broker-group");
            return now <= before ? null : $"{now} group entities live, {before} before";
        }, TimeSpan.FromSeconds(20), "the entities of absent groups to be gone");
    }

    [Fact]
    public async Task Lists_in_requests_are_capped()
    {
        var topics = string.Join(",", Enumerable.Range(0, 101).Select(i => $"\"t{i}\""));
        await AssertProblem(HttpStatusCode.RequestEntityTooLarge, "at most 100 topics", Http.PostAsync("groups/hostile-caps/join", Json($$"""{"topics":[{{topics}}]}""")));

        var offsets = string.Join(",", Enumerable.Range(0, 10_001).Select(i => $$"""{"topic":"t","partition":{{i}},"offset":0}"""));
        await AssertProblem(HttpStatusCode.RequestEntityTooLarge, "at most 10000 offsets", Http.PostAsync("groups/hostile-caps/commit", Json($$"""{"memberId":"m","offsets":[{{offsets}}]}""")));

        var records = string.Join(",", Enumerable.Repeat("""{"value":"v"}""", 10_001));
        await AssertProblem(HttpStatusCode.RequestEntityTooLarge, "at most 10000 records", Http.PostAsync("topics/hostile-caps/messages", Json($$"""{"records":[{{records}}]}""")));

        await AssertProblem(HttpStatusCode.BadRequest, "limit", Http.GetAsync("kv?prefix=a&limit=1001"));
        await AssertProblem(HttpStatusCode.BadRequest, "limit must be from 1 to 1000", Http.GetAsync("jobs?limit=1001"));
    }

    [Fact]
    public async Task A_grep_job_with_a_catastrophic_pattern_finishes_in_linear_time()
    {
        // ^(a+)+$ backtracks 2^n times on "aaa…a!": with a 2 s timeout per line it ran forever, starving the pool.
        var lines = string.Join("\\n", Enumerable.Range(0, 400).Select(i => new string('a', 2000) + (i % 2 == 0 ? "!" : "")));
        var started = DateTime.UtcNow;

        var id = await RunJobAsync("""{"type":"grep","input":{"text":"LINES"},"reducers":1,"parameters":{"pattern":"^(a+)+$"}}""".Replace("LINES", lines, StringComparison.Ordinal));

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        var result = await GetJsonAsync($"jobs/{id}/result");
        Assert.Equal("200", Assert.Single(result.GetProperty("items").EnumerateArray()).GetProperty("value").GetString());
        await AssertProblem(HttpStatusCode.BadRequest, "cannot run in linear time",
            Http.PostAsync("jobs", Json("""{"type":"grep","input":{"text":"a"},"parameters":{"pattern":"(a+)+\\1"}}""")));
        using var ready = await Http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private async Task<string> RunJobAsync(string body)
    {
        using var submit = await Http.PostAsync("jobs", Json(body));
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var id = JsonDocument.Parse(await submit.Content.ReadAsStringAsync()).RootElement.GetProperty("jobId").GetString()!;
        await Eventually.AwaitAsync(async () =>
        {
            var state = (await GetJsonAsync($"jobs/{id}")).GetProperty("state").GetString();
            return state == "Completed" ? null : $"job {id} is {state}";
        }, TimeSpan.FromSeconds(60), "the job to complete");
        return id;
    }

    private async Task<int> EntitiesAsync(string typeName)
    {
        var shards = await GetJsonAsync("cluster/shards");
        return shards.GetProperty("regions").EnumerateArray()
            .Where(r => r.GetProperty("typeName").GetString() == typeName)
            .Sum(r => r.GetProperty("shards").EnumerateArray().Sum(s => s.GetProperty("entities").GetInt32()));
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task AssertProblem(HttpStatusCode expected, string detail, Task<HttpResponseMessage> request)
    {
        using var response = await request;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, body, StringComparison.Ordinal);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
