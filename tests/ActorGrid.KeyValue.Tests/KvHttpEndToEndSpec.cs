using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.KeyValue.Tests;

/// <summary>The KV HTTP API of SPEC §5, exactly, against three real node processes.</summary>
public sealed class KvHttpEndToEndSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task The_kv_http_api_behaves_as_specified_across_node_processes()
    {
        var data = Path.Combine(Path.GetTempPath(), "actorgrid-kv-e2e", Guid.NewGuid().ToString("N")[..12]);
        string[] settings = ["--ActorGrid:Kv:Partitions=8", "--ActorGrid:Kv:MaxValueBytes=1024"];
        var timeout = TimeSpan.FromSeconds(60);
        var node0 = NodeProcess.Start(new NodeProcessOptions { Name = "node-0", DataDir = data, ExtraArgs = settings });
        List<NodeProcess> nodes = [node0];
        try
        {
            await node0.WaitUntilReadyAsync(timeout);
            nodes.Add(NodeProcess.Start(new NodeProcessOptions { Name = "node-1", DataDir = data, Seeds = [node0.SeedAddress], ExtraArgs = settings }));
            nodes.Add(NodeProcess.Start(new NodeProcessOptions { Name = "node-2", DataDir = data, Seeds = [node0.SeedAddress], ExtraArgs = settings }));
            await Task.WhenAll(nodes.Select(n => n.WaitForMembersAsync(nodes, timeout)));
            await RunAsync(nodes[0].Http, nodes[1].Http, nodes[2].Http);
        }
        catch
        {
            foreach (var node in nodes)
            {
                output.WriteLine($"--- {node}\n{node.Diagnostics()}");
            }

            throw;
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            NodeProcess.TryDelete(data);
        }
    }

    private static async Task RunAsync(HttpClient a, HttpClient b, HttpClient c)
    {

        // PUT → 200 {"key","version"} + ETag; the key may contain '/' and escaped characters.
        using (var put = await a.PutAsync("kv/e2e/a%20b/c", Bytes("one")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.Equal("\"1\"", put.Headers.ETag?.Tag);
            var body = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("e2e/a b/c", body.GetProperty("key").GetString());
            Assert.Equal(1, body.GetProperty("version").GetInt64());
        }

        // GET through another node → raw value + ETag.
        using (var get = await b.GetAsync("kv/e2e/a%20b/c"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("one", await get.Content.ReadAsStringAsync());
            Assert.Equal("\"1\"", get.Headers.ETag?.Tag);
            Assert.Equal("application/octet-stream", get.Content.Headers.ContentType?.MediaType);
        }

        // Compare-and-set and create-only.
        await AssertStatus(HttpStatusCode.PreconditionFailed, c.SendAsync(Put("kv/e2e/a%20b/c", "x", ifMatch: "\"7\"")));
        await AssertStatus(HttpStatusCode.PreconditionFailed, c.SendAsync(Put("kv/e2e/a%20b/c", "x", ifNoneMatch: "*")));
        using (var cas = await c.SendAsync(Put("kv/e2e/a%20b/c", "two", ifMatch: "\"1\"")))
        {
            Assert.Equal(HttpStatusCode.OK, cas.StatusCode);
            Assert.Equal("\"2\"", cas.Headers.ETag?.Tag);
        }

        // Bad input: 400/413 problem+json, and nothing is stored.
        await AssertStatus(HttpStatusCode.BadRequest, a.SendAsync(Put("kv/e2e/bad", "x", ifMatch: "2")));
        await AssertStatus(HttpStatusCode.BadRequest, a.PutAsync("kv/e2e/bad?ttl=-1", Bytes("x")));
        await AssertStatus(HttpStatusCode.BadRequest, a.PutAsync("kv/e2e/bad?ttl=abc", Bytes("x")));
        await AssertStatus(HttpStatusCode.BadRequest, a.PutAsync("kv/e2e/ctl%01", Bytes("x")));
        await AssertStatus(HttpStatusCode.BadRequest, a.PutAsync("kv/" + new string('k', 1025), Bytes("x")));
        await AssertStatus(HttpStatusCode.RequestEntityTooLarge, a.PutAsync("kv/e2e/bad", new ByteArrayContent(new byte[1025])));
        await AssertStatus(HttpStatusCode.BadRequest, a.GetAsync("kv/e2e/bad?consistency=sometimes"));
        await AssertStatus(HttpStatusCode.NotFound, b.GetAsync("kv/e2e/bad"));
        using (var ok = await a.PutAsync("kv/e2e/max", new ByteArrayContent(new byte[1024])))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // DELETE → 204, then 404; re-create continues the version count.
        await AssertStatus(HttpStatusCode.PreconditionFailed, b.SendAsync(Delete("kv/e2e/a%20b/c", "\"1\"")));
        await AssertStatus(HttpStatusCode.NoContent, b.SendAsync(Delete("kv/e2e/a%20b/c", "\"2\"")));
        await AssertStatus(HttpStatusCode.NotFound, c.GetAsync("kv/e2e/a%20b/c"));
        await AssertStatus(HttpStatusCode.NotFound, c.DeleteAsync("kv/e2e/a%20b/c"));
        using (var recreate = await c.SendAsync(Put("kv/e2e/a%20b/c", "three", ifNoneMatch: "*")))
        {
            Assert.Equal("\"3\"", recreate.Headers.ETag?.Tag);
        }

        // Idempotency-Key: a retry (through any node) of a write that landed gets the original answer and writes nothing.
        await AssertStatus(HttpStatusCode.OK, a.PutAsync("kv/e2e/idem", Bytes("v1")));
        foreach (var node in new[] { a, b, c })
        {
            using var cas = await node.SendAsync(Put("kv/e2e/idem", "v2", ifMatch: "\"1\"", idempotencyKey: "cas-1"));
            Assert.Equal(HttpStatusCode.OK, cas.StatusCode);
            Assert.Equal("\"2\"", cas.Headers.ETag?.Tag);
            using var plain = await node.SendAsync(Put("kv/e2e/idem-plain", "p", idempotencyKey: "\"plain-1\""));
            Assert.Equal("\"1\"", plain.Headers.ETag?.Tag);
        }

        await AssertStatus(HttpStatusCode.UnprocessableEntity, b.SendAsync(Put("kv/e2e/idem", "other", ifMatch: "\"1\"", idempotencyKey: "cas-1")));
        await AssertStatus(HttpStatusCode.BadRequest, b.SendAsync(Put("kv/e2e/idem", "v3", idempotencyKey: "two words")));
        await AssertStatus(HttpStatusCode.BadRequest, b.SendAsync(Put("kv/e2e/idem", "v3", idempotencyKey: new string('k', 256))));
        using (var idem = await c.GetAsync("kv/e2e/idem"))
        {
            Assert.Equal("v2", await idem.Content.ReadAsStringAsync());
            Assert.Equal("\"2\"", idem.Headers.ETag?.Tag);
        }

        var keyedDelete = new HttpRequestMessage(HttpMethod.Delete, "kv/e2e/idem-plain");
        keyedDelete.Headers.Add("Idempotency-Key", "del-1");
        await AssertStatus(HttpStatusCode.NoContent, a.SendAsync(keyedDelete));
        var retriedDelete = new HttpRequestMessage(HttpMethod.Delete, "kv/e2e/idem-plain");
        retriedDelete.Headers.Add("Idempotency-Key", "del-1");
        await AssertStatus(HttpStatusCode.NoContent, c.SendAsync(retriedDelete));

        // TTL: present, then absent.
        await AssertStatus(HttpStatusCode.OK, a.PutAsync("kv/e2e/ttl?ttl=1", Bytes("soon gone")));
        await AssertStatus(HttpStatusCode.OK, b.GetAsync("kv/e2e/ttl"));
        await Eventually.AwaitAsync(async () =>
        {
            using var gone = await b.GetAsync("kv/e2e/ttl");
            return gone.StatusCode == HttpStatusCode.NotFound ? null : $"still {(int)gone.StatusCode}";
        }, TimeSpan.FromSeconds(10), "the ttl key to expire");

        // Scan across all partitions, sorted, paged, values in base64.
        foreach (var i in Enumerable.Range(0, 5))
        {
            await AssertStatus(HttpStatusCode.OK, a.PutAsync($"kv/scan/{i}", Bytes("v" + i)));
        }

        var keys = new List<string>();
        string? next = null;
        do
        {
            var page = JsonDocument.Parse(await c.GetStringAsync("kv?prefix=scan/&limit=2" + (next is null ? "" : "&after=" + Uri.EscapeDataString(next)))).RootElement;
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                var key = item.GetProperty("key").GetString()!;
                keys.Add(key);
                Assert.Equal("v" + key[^1], Encoding.UTF8.GetString(Convert.FromBase64String(item.GetProperty("value").GetString()!)));
                Assert.Equal(1, item.GetProperty("version").GetInt64());
            }

            next = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (next is not null);

        Assert.Equal(["scan/0", "scan/1", "scan/2", "scan/3", "scan/4"], keys);
        await AssertStatus(HttpStatusCode.BadRequest, c.GetAsync("kv?prefix=scan/&limit=0"));

        // Replica read: served near the receiving node, with its staleness.
        using (var replica = await c.GetAsync("kv/scan/3?consistency=replica"))
        {
            Assert.Equal(HttpStatusCode.OK, replica.StatusCode);
            Assert.Equal("v3", await replica.Content.ReadAsStringAsync());
            Assert.Matches(@"^ms=\d+, events-behind=\d+$", replica.Headers.GetValues("X-ActorGrid-Staleness").Single());
        }

        // The hot-spot view reports load for the kv shards.
        await Eventually.AwaitAsync(async () =>
        {
            var shards = JsonDocument.Parse(await a.GetStringAsync("cluster/shards")).RootElement.GetProperty("regions").EnumerateArray()
                .Single(r => r.GetProperty("role").GetString() == "kv").GetProperty("shards").EnumerateArray().ToList();
            return shards.Any(s => s.GetProperty("load").ValueKind == JsonValueKind.Number && s.GetProperty("load").GetDouble() > 0)
                ? null
                : $"no kv shard reports load among {shards.Count}";
        }, TimeSpan.FromSeconds(10), "kv shard load in /cluster/shards");
    }

    private static ByteArrayContent Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    private static HttpRequestMessage Put(string uri, string value, string? ifMatch = null, string? ifNoneMatch = null, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = Bytes(value) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return request;
    }

    private static HttpRequestMessage Delete(string uri, string ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, uri);
        request.Headers.IfMatch.Add(new EntityTagHeaderValue(ifMatch));
        return request;
    }

    private static async Task AssertStatus(HttpStatusCode expected, Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected} but got {(int)response.StatusCode}: {body}");
        if ((int)expected >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
