using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.Node.Tests.Fuzz;

/// <summary>
/// Drives every HTTP endpoint of a real node process with <see cref="HttpFuzzer"/>'s hostile requests and checks
/// SPEC §5 and §7 for each answer and afterwards: never a 5xx but a 503 with Retry-After; every 4xx is
/// problem+json; the node stays ready; no entity is left for an invalid or unknown name (live entities per region
/// are at most what the accepted requests created); a dataset written before is byte-identical after.
/// Bounded for the README's test command; <c>ACTORGRID_FUZZ_SECONDS</c> (and <c>ACTORGRID_FUZZ_SEED</c>) run it longer.
/// </summary>
public sealed class HttpFuzzSpec(ITestOutputHelper output)
{
    private const int DefaultSeed = 14_0001;

    /// <summary>The default run: one seed for a bounded time.</summary>
    [Fact]
    public Task Hostile_requests_never_get_a_5xx_leave_no_entities_and_change_no_data()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ACTORGRID_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("ACTORGRID_FUZZ_SECONDS"), CultureInfo.InvariantCulture, out var t) ? t : 25;
        return RunAsync(seed, maxRequests: int.MaxValue, TimeSpan.FromSeconds(seconds));
    }

    private async Task RunAsync(int seed, int maxRequests, TimeSpan budget)
    {
        var data = Path.Combine(Path.GetTempPath(), "actorgrid-fuzz", Guid.NewGuid().ToString("N")[..12]);
        await using var node = NodeProcess.Start(new NodeProcessOptions
        {
            Name = "fuzz",
            DataDir = data,
            ExtraArgs = ["--ActorGrid:Kv:Partitions=8", "--ActorGrid:Kv:MaxValueBytes=65536", "--ActorGrid:Broker:MaxMessageBytes=65536"],
        });
        using var http = new HttpClient { BaseAddress = node.HttpUri, Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            await node.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            await WriteDatasetAsync(http);
            var before = await SnapshotDatasetAsync(http);
            var baseline = await EntitiesAsync(http);

            var run = await FuzzAsync(http, node, seed, maxRequests, budget);
            output.WriteLine($"seed {seed}: {run.Sent} requests in {run.Elapsed.TotalSeconds:0.0}s; statuses "
                + string.Join(", ", run.Statuses.OrderBy(p => Math.Abs(p.Key)).Select(p => p.Key < 0 ? $"{-p.Key} by Kestrel×{p.Value}" : $"{p.Key}×{p.Value}")));
            foreach (var failure in run.Failures.Take(40))
            {
                output.WriteLine("FAILURE " + failure);
            }

            Assert.True(run.Failures.IsEmpty, $"seed {seed}: {run.Failures.Count} answers broke the contract, first: {run.Failures.FirstOrDefault()}");

            using (var ready = await http.GetAsync("health/ready"))
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            }

            await AssertNothingLeftBehindAsync(http, baseline, run);
            var after = await SnapshotDatasetAsync(http);
            foreach (var (what, bytes) in before)
            {
                Assert.True(after.TryGetValue(what, out var now) && now.AsSpan().SequenceEqual(bytes),
                    $"{what} changed: before {Encoding.UTF8.GetString(bytes)} after {(now is null ? "missing" : Encoding.UTF8.GetString(now))}");
            }

            var errors = node.Diagnostics(2000).Split('\n')
                .Where(l => l.Contains("InvalidActorNameException", StringComparison.Ordinal) || l.Contains("Unhandled exception", StringComparison.Ordinal))
                .ToList();
            Assert.True(errors.Count == 0, "the node logged: " + string.Join("\n", errors.Take(5)));
        }
        catch
        {
            output.WriteLine(node.Diagnostics(200));
            throw;
        }
        finally
        {
            NodeProcess.TryDelete(data);
        }
    }

    // ------------------------------------------------------------------ the run

    private sealed class Run
    {
        public ConcurrentQueue<string> Failures { get; } = new();

        public ConcurrentDictionary<int, int> Statuses { get; } = new();

        public ConcurrentBag<string> CreatedTopics { get; } = [];

        public ConcurrentBag<string> JoinedGroups { get; } = [];

        public ConcurrentBag<string> AcceptedJobs { get; } = [];

        public int Sent;

        public TimeSpan Elapsed { get; set; }
    }

    private static async Task<Run> FuzzAsync(HttpClient http, NodeProcess node, int seed, int maxRequests, TimeSpan budget)
    {
        var run = new Run();
        var fuzzer = new HttpFuzzer(seed);
        var gate = new Lock();
        var index = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + budget;

        async Task WorkerAsync()
        {
            while (DateTime.UtcNow < deadline && !node.HasExited)
            {
                FuzzRequest request;
                int number;
                lock (gate)
                {
                    if (index >= maxRequests)
                    {
                        return;
                    }

                    number = index++;
                    request = fuzzer.Next();
                }

                await SendAsync(http, request, number, run);
                Interlocked.Increment(ref run.Sent);
                if (number % 250 == 249)
                {
                    using var ready = await http.GetAsync("health/ready");
                    if (ready.StatusCode != HttpStatusCode.OK)
                    {
                        run.Failures.Enqueue($"#{number}: /health/ready answered {(int)ready.StatusCode} after this request: {request}");
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => WorkerAsync()));
        run.Elapsed = clock.Elapsed;
        if (node.HasExited)
        {
            run.Failures.Enqueue($"the node exited with code {node.ExitCode}");
        }

        return run;
    }

    private static async Task SendAsync(HttpClient http, FuzzRequest request, int number, Run run)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Target);
        try
        {
            foreach (var (name, value) in request.Headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }

            if (request.Body is not null)
            {
                message.Content = new ByteArrayContent(request.Body);
                if (request.ContentType is not null)
                {
                    message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
                }
            }
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            return; // The client refuses to send it: nothing reaches the node.
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            run.Failures.Enqueue($"#{number}: no answer ({e.GetType().Name}: {e.Message}) to {request}");
            return;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            byte[] body;
            try
            {
                body = request.Method == "HEAD" ? [] : await response.Content.ReadAsByteArrayAsync(timeout.Token);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                run.Failures.Enqueue($"#{number}: {status} {response.Content.Headers.ContentType} with a body that never ended ({e.GetType().Name}) to {request}");
                return;
            }

            var type = response.Content.Headers.ContentType?.MediaType;
            if (status is 400 or 414 or 431 && body.Length == 0 && type is null && response.Headers.ConnectionClose == true)
            {
                // Kestrel refused the request line or headers (a NUL in the path, an over-long target) before any
                // application code ran: it answers without a body and closes the connection. Nothing can change.
                run.Statuses.AddOrUpdate(-status, 1, (_, n) => n + 1);
                return;
            }

            run.Statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            string? broken = status switch
            {
                503 when response.Headers.RetryAfter is null => "503 without Retry-After",
                >= 500 and not 503 => $"{status}",
                >= 300 and < 400 => $"redirect {status}",
                >= 400 when request.Method != "HEAD" && type != "application/problem+json" => $"{status} as {type ?? "no content type"}",
                _ => null,
            };
            if (broken is not null)
            {
                run.Failures.Enqueue($"#{number}: {broken} {Snippet(body)} to {request}");
                return;
            }

            if (status is >= 200 and < 300)
            {
                Record(request, status, body, run);
            }
        }
    }

    /// <summary>What an accepted request created, from the node's answer.</summary>
    private static void Record(FuzzRequest request, int status, byte[] body, Run run)
    {
        var path = request.Target.Split('?')[0];
        if (request.Method == "PUT" && path.StartsWith("topics/", StringComparison.Ordinal) && status == 201)
        {
            run.CreatedTopics.Add(Uri.UnescapeDataString(path["topics/".Length..]));
        }
        else if (request.Method == "POST" && path.StartsWith("groups/", StringComparison.Ordinal) && path.EndsWith("/join", StringComparison.Ordinal))
        {
            run.JoinedGroups.Add(Uri.UnescapeDataString(path["groups/".Length..^"/join".Length]));
        }
        else if (request.Method == "POST" && path == "jobs" && status == 202)
        {
            run.AcceptedJobs.Add(JsonDocument.Parse(body).RootElement.GetProperty("jobId").GetString()!);
        }
    }

    private static string Snippet(byte[] body) => body.Length == 0 ? "(empty)" : Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 300));

    // ------------------------------------------------------------------ afterwards

    private static async Task AssertNothingLeftBehindAsync(HttpClient http, Dictionary<string, int> baseline, Run run)
    {
        var topics = await GetJsonAsync(http, "topics");
        var listed = topics.GetProperty("topics").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();
        var allowed = run.CreatedTopics.Append("ds-topic").ToHashSet(StringComparer.Ordinal);
        Assert.All(listed, name => Assert.Contains(name, allowed));
        var partitions = 0;
        foreach (var topic in run.CreatedTopics.Distinct())
        {
            partitions += (await GetJsonAsync(http, "topics/" + topic)).GetProperty("partitions").GetArrayLength();
        }

        var jobs = (await GetJsonAsync(http, "jobs?limit=1000")).GetProperty("items").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()!).ToList();
        var accepted = run.AcceptedJobs.Append("ds-job").ToHashSet(StringComparer.Ordinal);
        Assert.All(jobs, id => Assert.Contains(id, accepted));
        var reducers = 0;
        foreach (var job in run.AcceptedJobs)
        {
            reducers += (await GetJsonAsync(http, "jobs/" + job)).GetProperty("progress").GetProperty("reduceTasks").GetProperty("total").GetInt32();
        }

        var allowance = new Dictionary<string, int>
        {
            ["broker-topic"] = run.CreatedTopics.Distinct().Count(),
            ["broker-partition"] = partitions,
            ["broker-group"] = run.JoinedGroups.Distinct().Count(),
            ["mapreduce-job"] = run.AcceptedJobs.Count,
            ["mapreduce-reduce"] = reducers,
            ["broker-topic-directory"] = 1,
            ["mapreduce-index"] = 1,
            ["kv"] = 8,
        };

        // Entities started for unknown names passivate at once; give them the moment that takes.
        await Eventually.AwaitAsync(async () =>
        {
            var now = await EntitiesAsync(http);
            var over = now.Where(r => r.Value > baseline.GetValueOrDefault(r.Key) + allowance.GetValueOrDefault(r.Key))
                .Select(r => $"{r.Key}: {r.Value} live, {baseline.GetValueOrDefault(r.Key)} before + {allowance.GetValueOrDefault(r.Key)} created")
                .ToList();
            return over.Count == 0 ? null : string.Join("; ", over);
        }, TimeSpan.FromSeconds(20), "no entities beyond what accepted requests created");
    }

    private static async Task<Dictionary<string, int>> EntitiesAsync(HttpClient http)
    {
        var shards = await GetJsonAsync(http, "cluster/shards");
        return shards.GetProperty("regions").EnumerateArray().ToDictionary(
            r => r.GetProperty("typeName").GetString()!,
            r => r.GetProperty("shards").EnumerateArray().Sum(s => s.GetProperty("entities").GetInt32()));
    }

    // ------------------------------------------------------------------ the dataset

    private static async Task WriteDatasetAsync(HttpClient http)
    {
        var random = new Random(7);
        for (var i = 0; i < 24; i++)
        {
            var value = new byte[random.Next(0, 2000)];
            random.NextBytes(value);
            await ExpectAsync(http.PutAsync($"kv/ds/{i}", new ByteArrayContent(value)), HttpStatusCode.OK);
        }

        await ExpectAsync(http.PutAsync("kv/ds/3", new StringContent("second version")), HttpStatusCode.OK);
        await ExpectAsync(http.PutAsync("topics/ds-topic", Json("""{"partitions":2}""")), HttpStatusCode.Created);
        await ExpectAsync(http.PostAsync("topics/ds-topic/messages",
            Json("{\"records\":[" + string.Join(",", Enumerable.Range(0, 10).Select(i => $"{{\"key\":\"k{i}\",\"value\":\"v{i}\"}}")) + "]}")), HttpStatusCode.OK);
        var joined = await GetJsonAsync(http, "groups/ds-group/join", Json("""{"topics":["ds-topic"]}"""));
        var member = joined.GetProperty("memberId").GetString();
        await ExpectAsync(http.PostAsync("groups/ds-group/commit",
            Json($$"""{"memberId":"{{member}}","offsets":[{"topic":"ds-topic","partition":0,"offset":3},{"topic":"ds-topic","partition":1,"offset":2}]}""")), HttpStatusCode.OK);
        await ExpectAsync(http.PostAsync("groups/ds-group/leave", Json($$"""{"memberId":"{{member}}"}""")), HttpStatusCode.OK);
        await ExpectAsync(http.PostAsync("jobs", Json("""{"type":"wordcount","jobId":"ds-job","input":{"text":"to be or not to be"},"reducers":2}""")), HttpStatusCode.Accepted);
        await Eventually.AwaitAsync(async () =>
        {
            var state = (await GetJsonAsync(http, "jobs/ds-job")).GetProperty("state").GetString();
            return state == "Completed" ? null : $"ds-job is {state}";
        }, TimeSpan.FromSeconds(60), "the dataset's job to complete");
    }

    private static async Task<Dictionary<string, byte[]>> SnapshotDatasetAsync(HttpClient http)
    {
        var snapshot = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < 24; i++)
        {
            using var get = await http.GetAsync($"kv/ds/{i}");
            snapshot[$"kv/ds/{i}"] = [.. Encoding.UTF8.GetBytes($"{(int)get.StatusCode} {get.Headers.ETag} "), .. await get.Content.ReadAsByteArrayAsync()];
        }

        foreach (var path in new[]
                 {
                     "kv?prefix=ds/&limit=1000", "topics/ds-topic", "topics/ds-topic/partitions/0/messages?offset=0",
                     "topics/ds-topic/partitions/1/messages?offset=0", "groups/ds-group", "jobs/ds-job/result?limit=1000",
                 })
        {
            using var get = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            snapshot[path] = await get.Content.ReadAsByteArrayAsync();
        }

        return snapshot;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, HttpContent? post = null)
    {
        using var response = post is null ? await http.GetAsync(path) : await http.PostAsync(path, post);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task ExpectAsync(Task<HttpResponseMessage> request, HttpStatusCode expected)
    {
        using var response = await request;
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
}
