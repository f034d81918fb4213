using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ActorGrid.Cli;
using ActorGrid.Client;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.Broker.Tests;

/// <summary>
/// The broker's HTTP API against two real <c>ActorGrid.Node</c> processes sharing one SQLite journal: the exact JSON
/// of SPEC §5, long polls, the Server-Sent Events stream and its flow control.
/// </summary>
public sealed class BrokerHttpEndToEndSpec(TwoNodeProcesses nodes, ITestOutputHelper output) : IClassFixture<TwoNodeProcesses>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly NodeProcess _a = nodes.A;
    private readonly NodeProcess _b = nodes.B;

    [Fact]
    public async Task Topics_produce_fetch_long_poll_groups_and_the_event_stream_over_http()
    {
        // Topic creation: 201, identical 200, different 409 — through either node.
        Assert.Equal(HttpStatusCode.Created, (await PutTopicAsync(_a, "orders", 3)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutTopicAsync(_b, "orders", 3)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PutTopicAsync(_b, "orders", 4)).StatusCode);

        // Produce through A, exactly as SPEC §5 shows it.
        using var produced = await _a.Http.PostAsJsonAsync("topics/orders/messages", new
        {
            records = new object[] { new { key = "k", value = "text" }, new { key = "k", valueBase64 = Convert.ToBase64String([0xff, 0x00]) } },
            producerId = "p",
            sequence = 0,
        });
        Assert.Equal(HttpStatusCode.OK, produced.StatusCode);
        var results = (await produced.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results");
        var partition = results[0].GetProperty("partition").GetInt32();
        Assert.Equal(partition, results[1].GetProperty("partition").GetInt32());
        Assert.Equal([0L, 1L], results.EnumerateArray().Select(r => r.GetProperty("offset").GetInt64()));

        // Fetch through B.
        var page = await _b.Http.GetFromJsonAsync<JsonElement>($"topics/orders/partitions/{partition}/messages?offset=0&max=100&waitMs=0");
        var records = page.GetProperty("records");
        Assert.Equal("text", records[0].GetProperty("value").GetString());
        Assert.Equal("k", records[0].GetProperty("key").GetString());
        Assert.True(records[0].GetProperty("timestamp").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(Convert.ToBase64String([0xff, 0x00]), records[1].GetProperty("valueBase64").GetString());
        Assert.Equal(2, page.GetProperty("nextOffset").GetInt64());
        Assert.Equal(2, page.GetProperty("endOffset").GetInt64());

        // A long poll at the end of the partition (on B) is answered by a record produced on A.
        var waiting = _b.Client.Broker.FetchAsync("orders", partition, 2, waitMs: 20_000);
        await _a.Client.Broker.ProduceTextAsync("orders", "k", "late");
        Assert.Equal("late", Assert.Single((await waiting).Records).Value);

        // Bad input: clear 4xx, never 500.
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await _b.Http.GetAsync($"topics/orders/partitions/{partition}/messages?offset=99")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _b.Http.GetAsync("topics/nope/partitions/0/messages")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _b.Http.GetAsync("topics/orders/partitions/3/messages")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _b.Http.GetAsync("topics/bad%20name")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _b.Http.PostAsync("topics/orders/messages", new StringContent("{\"records\":[", Encoding.UTF8, "application/json"))).StatusCode);
        var oversize = new { records = new[] { new { value = new string('x', 1024 * 1024 + 1) } } };
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _a.Http.PostAsJsonAsync("topics/orders/messages", oversize)).StatusCode);
        // A member id the server did not issue to this caller (SPEC §11).
        Assert.Equal(HttpStatusCode.Forbidden, (await _a.Http.PostAsJsonAsync("groups/g/poll", new { memberId = "ghost" })).StatusCode);

        // The push stream on B: `assigned` first, then one `record` event per record with id topic/partition/offset.
        await _a.Client.Broker.CreateTopicAsync("clicks", 2);
        using var stream = await OpenStreamAsync(_b, "clicks-readers", "clicks");
        var assigned = await stream.NextAsync();
        Assert.Equal("assigned", assigned.Event);
        var memberId = assigned.Data.GetProperty("memberId").GetString()!;
        Assert.Equal(2, assigned.Data.GetProperty("assignments").GetArrayLength());

        var values = Enumerable.Range(0, 30).Select(i => $"click-{i}").ToList();
        await _a.Client.Broker.ProduceAsync("clicks", values.Select(v => ProducerRecord.Text(v, v)));
        var streamed = new List<SseEvent>();
        while (streamed.Count < values.Count)
        {
            var e = await stream.NextAsync();
            Assert.Equal("record", e.Event);
            streamed.Add(e);
        }

        Assert.Equal(values.Order(), streamed.Select(e => e.Data.GetProperty("value").GetString()!).Order());
        Assert.All(streamed, e => Assert.Equal(
            $"clicks/{e.Data.GetProperty("partition").GetInt32()}/{e.Data.GetProperty("offset").GetInt64()}", e.Id));

        // Commits go through the commit call (on A, for the member streaming from B).
        var offsets = streamed.GroupBy(e => e.Data.GetProperty("partition").GetInt32())
            .Select(g => new TopicOffset("clicks", g.Key, g.Max(e => e.Data.GetProperty("offset").GetInt64()) + 1));
        await _a.Client.Broker.CommitAsync("clicks-readers", memberId, offsets);
        var group = await _a.Client.Broker.GetGroupAsync("clicks-readers");
        Assert.Equal(0, group.TotalLag);
        Assert.Equal(memberId, Assert.Single(group.Members).MemberId);

        // Closing the stream leaves the group.
        stream.Dispose();
        await Eventually.AwaitAsync(async () =>
        {
            var g = await _a.Client.Broker.GetGroupAsync("clicks-readers");
            return g.Members.Count == 0 ? null : $"{g.Members.Count} members";
        }, Deadline, "the stream's member to leave");
    }

    [Fact]
    public async Task A_stream_whose_reader_stalls_makes_the_node_wait_instead_of_buffering_the_backlog()
    {
        const int Count = 2500;
        var payload = new string('x', 8 * 1024);
        await _a.Client.Broker.CreateTopicAsync("bulk", 1);
        for (var batch = 0; batch < Count / 100; batch++)
        {
            await _a.Client.Broker.ProduceAsync("bulk", Enumerable.Range(0, 100).Select(i => ProducerRecord.Text(null, $"{batch * 100 + i}:{payload}")));
        }

        using var stream = await OpenStreamAsync(_b, "bulk-readers", "bulk");
        Assert.Equal("assigned", (await stream.NextAsync()).Event);

        // The client reads nothing more: once the socket buffers are full the node stops fetching pages.
        long position = 0;
        var stableSince = DateTime.UtcNow;
        await Eventually.AwaitAsync(async () =>
        {
            var current = await PositionAsync(_a, "bulk-readers");
            if (current != position)
            {
                (position, stableSince) = (current, DateTime.UtcNow);
            }

            return DateTime.UtcNow - stableSince >= TimeSpan.FromSeconds(1.5) ? null : $"position still moving ({current})";
        }, Deadline, "the stalled stream's position to stop moving");
        output.WriteLine($"stalled reader: the node read ahead {position} of {Count} records (~{position * 8 / 1024} MiB)");
        Assert.InRange(position, 1, Count - 500);

        // Reading on drains everything, in order.
        long expected = 0;
        while (expected < Count)
        {
            var e = await stream.NextAsync();
            if (e.Event != "record")
            {
                continue;
            }

            Assert.Equal(expected, e.Data.GetProperty("offset").GetInt64());
            expected++;
        }
    }

    [Fact]
    public async Task The_cli_creates_lists_and_describes_topics_produces_and_consumes_with_a_group()
    {
        var node = _b.HttpUri.ToString();

        var created = await CliAsync("topic", "create", "cli-events", "--partitions", "2", "--retention-messages", "1000", "--node", node);
        Assert.Equal("created topic cli-events with 2 partitions", created.Stdout.Trim());
        var again = await CliAsync("topic", "create", "cli-events", "--partitions", "2", "--retention-messages", "1000", "--node", node);
        Assert.Contains("already exists", again.Stdout, StringComparison.Ordinal);
        var conflict = await CliAsync("topic", "create", "cli-events", "--partitions", "3", "--node", node);
        Assert.Equal(GridCli.Conflict, conflict.ExitCode);
        Assert.StartsWith("error: 409", Assert.Single(Lines(conflict.Stderr)), StringComparison.Ordinal);

        var produced = await CliAsync("produce", "cli-events", "one", "two", "three", "--key", "k", "--producer-id", "cli", "--node", node);
        var positions = Lines(produced.Stdout);
        Assert.Equal(3, positions.Length);
        Assert.Single(positions.Select(p => p.Split('/')[1]).Distinct());
        var retried = await CliAsync("produce", "cli-events", "one", "two", "three", "--key", "k", "--producer-id", "cli", "--node", node);
        Assert.Equal(positions, Lines(retried.Stdout));

        var listed = await CliAsync("topic", "list", "--node", node);
        var row = Assert.Single(Lines(listed.Stdout), l => l.Contains("cli-events", StringComparison.Ordinal));
        Assert.Contains("1000 records", row, StringComparison.Ordinal);
        var described = await CliAsync("topic", "describe", "cli-events", "--json", "--node", node);
        using (var json = JsonDocument.Parse(described.Stdout))
        {
            Assert.Equal(3, json.RootElement.GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("endOffset").GetInt64()));
        }

        var consumed = await CliAsync("consume", "cli-events", "--group", "cli-group", "--node", _a.HttpUri.ToString());
        Assert.True(consumed.ExitCode == 0, consumed.Stderr);
        Assert.Equal(["one", "two", "three"], Lines(consumed.Stdout).Select(l => l.Split('\t')[2]));
        Assert.Contains("3 record(s) consumed by group cli-group", consumed.Stderr, StringComparison.Ordinal);

        // The group committed: consuming again finds nothing new.
        var rest = await CliAsync("consume", "cli-events", "--group", "cli-group", "--node", node);
        Assert.Empty(Lines(rest.Stdout));

        var missing = await CliAsync("topic", "describe", "nope", "--node", node);
        Assert.Equal(GridCli.NotFound, missing.ExitCode);
        Assert.StartsWith("error: 404", Assert.Single(Lines(missing.Stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Groups_are_reset_listed_and_deleted_only_without_live_members_and_a_deleted_topic_comes_back_empty()
    {
        var a = _a.Client.Broker;
        var b = _b.Client.Broker;
        await a.CreateTopicAsync("ledger", 2);
        await a.ProduceAsync("ledger", Enumerable.Range(0, 10).Select(i => ProducerRecord.Text($"k{i}", $"v{i}")));

        // A member reads and commits everything.
        var member = await a.JoinGroupAsync("auditors", ["ledger"]);
        var seen = 0;
        await Eventually.AwaitAsync(async () =>
        {
            var poll = await a.PollAsync("auditors", member.MemberId, waitMs: 200);
            if (poll.Records.Count > 0)
            {
                await a.CommitAsync("auditors", member.MemberId, poll.Records);
            }

            seen += poll.Records.Count;
            return seen >= 10 ? null : $"read {seen} of 10";
        }, Deadline, "the member reads the topic");

        // While it is a member, the group's offsets stay its own.
        Assert.Equal(HttpStatusCode.Conflict, (await _b.Http.PostAsJsonAsync("groups/auditors/offsets", new { reset = "earliest" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _b.Http.DeleteAsync("groups/auditors")).StatusCode);
        await a.LeaveGroupAsync("auditors", member.MemberId);

        var earliest = await b.ResetGroupOffsetsAsync("auditors", "earliest");
        Assert.Equal((10, 2), (earliest.TotalLag, earliest.Offsets.Count));
        Assert.All(earliest.Offsets, o => Assert.Equal(0, o.Committed));
        var future = await b.ResetGroupOffsetsAsync("auditors", "timestamp", DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(0, future.TotalLag);
        var past = await b.ResetGroupOffsetsAsync("auditors", "timestamp", DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Equal(10, past.TotalLag);
        Assert.Equal(0, (await b.ResetGroupOffsetsAsync("auditors", "latest")).TotalLag);
        Assert.Equal(HttpStatusCode.BadRequest, (await _b.Http.PostAsJsonAsync("groups/auditors/offsets", new { reset = "sideways" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _b.Http.PostAsJsonAsync("groups/auditors/offsets", new { reset = "timestamp" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _b.Http.PostAsJsonAsync("groups/auditors/offsets", new { reset = "timestamp", timestamp = "yesterday" })).StatusCode);
        Assert.Contains(await a.ListGroupsAsync(), g => g.Group == "auditors");

        await b.DeleteGroupAsync("auditors");
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Http.GetAsync("groups/auditors")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Http.DeleteAsync("groups/auditors")).StatusCode);

        // autoOffsetReset latest: a member of a group without offsets reads only what comes after its first poll.
        Assert.Equal(HttpStatusCode.BadRequest,
            (await _a.Http.PostAsJsonAsync("groups/tail/join", new { topics = new[] { "ledger" }, autoOffsetReset = "middle" })).StatusCode);
        using var joined = await _a.Http.PostAsJsonAsync("groups/tail/join", new { topics = new[] { "ledger" }, autoOffsetReset = "latest" });
        var tail = (await joined.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("memberId").GetString()!;
        Assert.Empty((await a.PollAsync("tail", tail, waitMs: 0)).Records);
        await a.ProduceTextAsync("ledger", "k0", "after");
        var polled = new List<string?>();
        await Eventually.AwaitAsync(async () =>
        {
            polled.AddRange((await a.PollAsync("tail", tail, waitMs: 500)).Records.Select(r => r.Value));
            return polled.Count > 0 ? null : "nothing yet";
        }, Deadline, "the latest member reads the new record");
        Assert.Equal(["after"], polled);
        await a.LeaveGroupAsync("tail", tail);

        // Topic delete (admin): 204, then 404 on both nodes; producing to it fails; created again it is empty.
        await b.DeleteTopicAsync("ledger");
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Http.DeleteAsync("topics/ledger")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Http.GetAsync("topics/ledger")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _b.Http.GetAsync("topics/ledger")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _a.Http.PostAsJsonAsync("topics/ledger/messages", new { records = new[] { new { value = "x" } } })).StatusCode);
        Assert.DoesNotContain(await a.ListTopicsAsync(), t => t.Name == "ledger");

        await b.CreateTopicAsync("ledger", 3);
        var recreated = await b.GetTopicAsync("ledger");
        Assert.Equal(3, recreated.PartitionCount);
        Assert.All(recreated.Partitions, p => Assert.Equal(p.StartOffset, p.EndOffset));
        output.WriteLine($"[spec] re-created partitions start at {string.Join(", ", recreated.Partitions.Select(p => p.StartOffset))}");
        var first = await b.ProduceTextAsync("ledger", "k0", "new");
        var page = await a.FetchAsync("ledger", first.Partition, offset: null);
        Assert.Equal("new", Assert.Single(page.Records).Value);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await ActorGrid.Cli.ActorGridCli.RunAsync(args, new System.CommandLine.InvocationConfiguration { Output = stdout, Error = stderr });
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Task<HttpResponseMessage> PutTopicAsync(NodeProcess node, string topic, int partitions) =>
        node.Http.PutAsJsonAsync($"topics/{topic}", new { partitions, retentionMessages = (long?)null, retentionSeconds = (long?)null });

    private static async Task<long> PositionAsync(NodeProcess node, string group)
    {
        var info = await node.Client.Broker.GetGroupAsync(group);
        return info.Members.SelectMany(m => m.Positions).Select(p => p.Offset).DefaultIfEmpty(0).Sum();
    }

    private static async Task<SseReader> OpenStreamAsync(NodeProcess node, string group, string topics)
    {
        // Its own client: the node's default one times out after 10 s, and a stream lives longer.
        var http = new HttpClient { BaseAddress = node.HttpUri, Timeout = Timeout.InfiniteTimeSpan };
        var response = await http.GetAsync($"groups/{group}/stream?topics={topics}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseReader(http, response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    private sealed record SseEvent(string Event, string? Id, JsonElement Data);

    /// <summary>A minimal reader of the <c>text/event-stream</c> format, to check the wire format itself.</summary>
    private sealed class SseReader(HttpClient http, HttpResponseMessage response, StreamReader reader) : IDisposable
    {
        public async Task<SseEvent> NextAsync()
        {
            using var timeout = new CancellationTokenSource(Deadline);
            string? name = null, id = null, data = null;
            while (true)
            {
                var line = await reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("the stream ended");
                if (line.Length == 0)
                {
                    if (data is not null)
                    {
                        return new SseEvent(name ?? "message", id, JsonDocument.Parse(data).RootElement.Clone());
                    }

                    continue;
                }

                if (line.StartsWith(':'))
                {
                    continue;
                }

                var colon = line.IndexOf(':');
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
                switch (field)
                {
                    case "event": name = value; break;
                    case "id": id = value; break;
                    case "data": data = data is null ? value : data + "\n" + value; break;
                }
            }
        }

        public void Dispose()
        {
            reader.Dispose();
            response.Dispose();
            http.Dispose();
        }
    }
}

/// <summary>Two real node processes on one journal folder, shared by the specs of a class.</summary>
public sealed class TwoNodeProcesses : IAsyncLifetime
{
    private static readonly TimeSpan Formation = TimeSpan.FromSeconds(90);
    private readonly string _data = Directory.CreateTempSubdirectory("actorgrid-broker-e2e-").FullName;

    /// <summary>The first node (the seed).</summary>
    public NodeProcess A { get; private set; } = null!;

    /// <summary>The second node.</summary>
    public NodeProcess B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        A = NodeProcess.Start(new NodeProcessOptions { Name = "node-a", DataDir = _data });
        await A.WaitUntilReadyAsync(Formation);
        B = NodeProcess.Start(new NodeProcessOptions { Name = "node-b", DataDir = _data, Seeds = [A.SeedAddress] });
        await B.WaitUntilReadyAsync(Formation);
        await Task.WhenAll(A.WaitForMembersAsync([A, B], Formation), B.WaitForMembersAsync([A, B], Formation));
    }

    public async Task DisposeAsync()
    {
        foreach (var node in new[] { B, A })
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        NodeProcess.TryDelete(_data);
    }
}
