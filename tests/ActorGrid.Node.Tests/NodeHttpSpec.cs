using System.Net;
using ActorGrid.TestKit.Processes;

namespace ActorGrid.Node.Tests;

/// <summary>Health and routing of the HTTP API of a real node process.</summary>
public sealed class NodeHttpSpec(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    [Theory]
    [InlineData("health/live")]
    [InlineData("health/ready")]
    [InlineData("cluster")]
    [InlineData("cluster/shards")]
    public async Task Cluster_endpoints_answer_200_on_an_up_node(string path)
    {
        using var response = await fixture.Node.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unknown_route_is_404()
    {
        using var response = await fixture.Node.Http.GetAsync("no/such/route");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_node_that_cannot_join_is_live_but_not_ready()
    {
        // The seed is a free port nobody listens on: the node runs but never becomes a member.
        var nowhere = FreePorts.Take(1)[0];
        await using var node = NodeProcess.Start(new NodeProcessOptions { Name = "lonely", Seeds = [$"127.0.0.1:{nowhere}"] });

        await node.AwaitWhileRunningAsync(
            async () =>
            {
                using var live = await node.Http.GetAsync("health/live");
                return live.StatusCode == HttpStatusCode.OK ? null : $"/health/live answered {(int)live.StatusCode}";
            },
            TimeSpan.FromSeconds(60),
            "the lonely node to be live");

        using var ready = await node.Http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("application/problem+json", ready.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(ready.Headers.RetryAfter);
    }
}
