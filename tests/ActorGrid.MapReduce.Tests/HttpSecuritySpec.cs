using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ActorGrid.Broker;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;

namespace ActorGrid.MapReduce.Tests;

/// <summary>One node with a tokens file, shared by the specs of <see cref="HttpSecuritySpec"/>.</summary>
public sealed class SecuredNodeFixture : IAsyncLifetime
{
    public const string Admin = "admin-token-7f3a9c2e41";
    public const string Reader = "reader-token-5b8d0e7a13";
    public const string KvA = "kv-a-token-2c6f91d4e8";
    public const string ConsumerOne = "consumer-one-3e7a5b9c0d";
    public const string ConsumerTwo = "consumer-two-8d1f4a6c2b";
    public const string Jobs = "jobs-token-9a2c4e6f8b";

    private readonly string _tokensFile = Path.Combine(Path.GetTempPath(), $"actorgrid-tokens-{Guid.NewGuid():N}.txt");
    private GridTestCluster? _cluster;

    public GridTestNode Node => _cluster?[0] ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        await File.WriteAllLinesAsync(_tokensFile,
        [
            "# token scopes",
            $"{Admin} admin",
            $"{Reader} read",
            $"{KvA} write:kv/a/",
            $"{ConsumerOne} write:group/billing,read:topic/orders",
            $"{ConsumerTwo} write:group/billing,read:topic/orders",
            $"{Jobs} write:job,read:kv/docs/,write:kv/out/",
        ]);
        _cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue().WithBroker().WithMapReduce(), new GridTestClusterOptions
        {
            Configure = (_, options) => options with { Security = options.Security with { TokensFile = _tokensFile } },
        });
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        File.Delete(_tokensFile);
    }

    /// <summary>A request to the node with <paramref name="token"/> as bearer (none when null).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = body as HttpContent ?? JsonContent.Create(body);
        }

        return await Node.Http.SendAsync(request);
    }
}

/// <summary>SPEC §11 on HTTP: 401 without a valid token, 403 when the token's scopes do not cover the operation.</summary>
public sealed class HttpSecuritySpec(SecuredNodeFixture node) : IClassFixture<SecuredNodeFixture>
{
    [Fact]
    public async Task No_token_or_an_unknown_one_is_401_everywhere_but_health()
    {
        foreach (var path in new[] { "kv/a/x", "cluster", "topics", "jobs" })
        {
            using var none = await node.SendAsync(HttpMethod.Get, path, token: null);
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("Bearer", Assert.Single(none.Headers.WwwAuthenticate).Scheme);
            using var unknown = await node.SendAsync(HttpMethod.Get, path, token: "not-a-token-of-this-node");
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        }

        using var put = await node.SendAsync(HttpMethod.Put, "kv/a/x", token: null, new StringContent("v"));
        Assert.Equal(HttpStatusCode.Unauthorized, put.StatusCode);
        using var live = await node.SendAsync(HttpMethod.Get, "health/live", token: null);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await node.SendAsync(HttpMethod.Get, "health/ready", token: null);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task A_read_only_token_reads_but_writing_is_403()
    {
        using var read = await node.SendAsync(HttpMethod.Get, "kv/r/missing", SecuredNodeFixture.Reader);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        using var write = await node.SendAsync(HttpMethod.Put, "kv/r/x", SecuredNodeFixture.Reader, new StringContent("v"));
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        using var delete = await node.SendAsync(HttpMethod.Delete, "kv/r/x", SecuredNodeFixture.Reader);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        using var topic = await node.SendAsync(HttpMethod.Put, "topics/reader-topic", SecuredNodeFixture.Reader, new { partitions = 1 });
        Assert.Equal(HttpStatusCode.Forbidden, topic.StatusCode);
        using var cluster = await node.SendAsync(HttpMethod.Get, "cluster", SecuredNodeFixture.Reader);
        Assert.Equal(HttpStatusCode.OK, cluster.StatusCode);
    }

    [Fact]
    public async Task A_prefix_scope_writes_keys_under_its_prefix_only()
    {
        using var inside = await node.SendAsync(HttpMethod.Put, "kv/a/x", SecuredNodeFixture.KvA, new StringContent("1"));
        Assert.True(inside.IsSuccessStatusCode, $"PUT kv/a/x answered {(int)inside.StatusCode}");
        using var outside = await node.SendAsync(HttpMethod.Put, "kv/b/x", SecuredNodeFixture.KvA, new StringContent("1"));
        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        using var readBack = await node.SendAsync(HttpMethod.Get, "kv/b/x", SecuredNodeFixture.Admin);
        Assert.Equal(HttpStatusCode.NotFound, readBack.StatusCode);

        using var scanInside = await node.SendAsync(HttpMethod.Get, "kv?prefix=a/", SecuredNodeFixture.KvA);
        Assert.Equal(HttpStatusCode.OK, scanInside.StatusCode);
        using var scanAll = await node.SendAsync(HttpMethod.Get, "kv?prefix=", SecuredNodeFixture.KvA);
        Assert.Equal(HttpStatusCode.Forbidden, scanAll.StatusCode);
    }

    [Fact]
    public async Task A_job_whose_output_or_input_is_outside_the_token_is_403_before_anything_runs()
    {
        using var output = await node.SendAsync(HttpMethod.Post, "jobs", SecuredNodeFixture.Jobs,
            new { type = "wordcount", jobId = "escape-output", input = new { kvPrefix = "docs/" }, output = new { kvPrefix = "a/" } });
        Assert.Equal(HttpStatusCode.Forbidden, output.StatusCode);
        using var input = await node.SendAsync(HttpMethod.Post, "jobs", SecuredNodeFixture.Jobs,
            new { type = "wordcount", jobId = "escape-input", input = new { kvPrefix = "a/" }, output = new { kvPrefix = "out/" } });
        Assert.Equal(HttpStatusCode.Forbidden, input.StatusCode);

        foreach (var id in new[] { "escape-output", "escape-input" })
        {
            // The job's coordinator starts on first use; on a loaded machine its first answer can be a 503 (retry).
            var status = HttpStatusCode.ServiceUnavailable;
            await Eventually.AwaitAsync(async () =>
            {
                using var response = await node.SendAsync(HttpMethod.Get, $"jobs/{id}", SecuredNodeFixture.Admin);
                status = response.StatusCode;
                return status == HttpStatusCode.ServiceUnavailable ? "the coordinator is starting (503)" : null;
            }, TimeSpan.FromSeconds(60), $"an answer about job {id}");
            Assert.Equal(HttpStatusCode.NotFound, status);
        }

        using var allowed = await node.SendAsync(HttpMethod.Post, "jobs", SecuredNodeFixture.Jobs,
            new { type = "wordcount", jobId = "within-scope", input = new { kvPrefix = "docs/" }, output = new { kvPrefix = "out/" } });
        Assert.Equal(HttpStatusCode.Accepted, allowed.StatusCode);
    }

    [Fact]
    public async Task Member_ids_are_made_by_the_server_and_another_token_using_one_is_403()
    {
        using var topic = await node.SendAsync(HttpMethod.Put, "topics/orders", SecuredNodeFixture.Admin, new { partitions = 2 });
        Assert.True(topic.IsSuccessStatusCode, $"PUT topics/orders answered {(int)topic.StatusCode}");

        using var chosen = await node.SendAsync(HttpMethod.Post, "groups/billing/join", SecuredNodeFixture.ConsumerOne,
            new { topics = new[] { "orders" }, memberId = "m-mine" });
        Assert.Equal(HttpStatusCode.Forbidden, chosen.StatusCode);

        using var joined = await node.SendAsync(HttpMethod.Post, "groups/billing/join", SecuredNodeFixture.ConsumerOne, new { topics = new[] { "orders" } });
        Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
        var memberId = (await joined.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("memberId").GetString()!;
        Assert.Matches("^m-[0-9a-f]{32}\\.", memberId);

        // Another token that may consume the same group sees the member id and tries to act as it.
        using var poll = await node.SendAsync(HttpMethod.Post, "groups/billing/poll", SecuredNodeFixture.ConsumerTwo, new { memberId });
        Assert.Equal(HttpStatusCode.Forbidden, poll.StatusCode);
        using var commit = await node.SendAsync(HttpMethod.Post, "groups/billing/commit", SecuredNodeFixture.ConsumerTwo,
            new { memberId, offsets = new[] { new { topic = "orders", partition = 0, offset = 1000 } } });
        Assert.Equal(HttpStatusCode.Forbidden, commit.StatusCode);
        using var rejoin = await node.SendAsync(HttpMethod.Post, "groups/billing/join", SecuredNodeFixture.ConsumerTwo, new { topics = new[] { "orders" }, memberId });
        Assert.Equal(HttpStatusCode.Forbidden, rejoin.StatusCode);
        using var leave = await node.SendAsync(HttpMethod.Post, "groups/billing/leave", SecuredNodeFixture.ConsumerTwo, new { memberId });
        Assert.Equal(HttpStatusCode.Forbidden, leave.StatusCode);

        // The member's own token still works; a made-up id in its own name is not a member.
        using var own = await node.SendAsync(HttpMethod.Post, "groups/billing/poll", SecuredNodeFixture.ConsumerOne, new { memberId, waitMs = 0 });
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var forged = "m-00000000000000000000000000000000" + memberId[memberId.IndexOf('.', StringComparison.Ordinal)..];
        using var made = await node.SendAsync(HttpMethod.Post, "groups/billing/join", SecuredNodeFixture.ConsumerOne, new { topics = new[] { "orders" }, memberId = forged });
        Assert.Equal(HttpStatusCode.NotFound, made.StatusCode);

        // Scopes name the group and the topics: the same token may not consume another group or topic.
        using var otherGroup = await node.SendAsync(HttpMethod.Post, "groups/audit/join", SecuredNodeFixture.ConsumerOne, new { topics = new[] { "orders" } });
        Assert.Equal(HttpStatusCode.Forbidden, otherGroup.StatusCode);

        // Administering the group or its topic needs admin scope: a consumer of the group may not reset or delete it.
        using var reset = await node.SendAsync(HttpMethod.Post, "groups/billing/offsets", SecuredNodeFixture.ConsumerOne, new { reset = "earliest" });
        Assert.Equal(HttpStatusCode.Forbidden, reset.StatusCode);
        using var deleteGroup = await node.SendAsync(HttpMethod.Delete, "groups/billing", SecuredNodeFixture.ConsumerOne);
        Assert.Equal(HttpStatusCode.Forbidden, deleteGroup.StatusCode);
        using var deleteTopic = await node.SendAsync(HttpMethod.Delete, "topics/orders", SecuredNodeFixture.Reader);
        Assert.Equal(HttpStatusCode.Forbidden, deleteTopic.StatusCode);
        using var busy = await node.SendAsync(HttpMethod.Delete, "groups/billing", SecuredNodeFixture.Admin);
        Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
    }
}
