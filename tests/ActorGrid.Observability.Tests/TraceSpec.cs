using System.Diagnostics;
using ActorGrid.Contracts;
using ActorGrid.Observability;
using ActorGrid.TestKit;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Xunit.Abstractions;

namespace ActorGrid.Observability.Tests;

/// <summary>
/// A <c>PUT /kv</c> received by one node and owned by another is one trace: the HTTP edge, the owning partition on
/// the other node (its context carried across remoting in ActorGrid's envelope) and the journal write.
/// </summary>
public sealed class TraceSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_put_received_by_one_node_and_owned_by_another_is_one_trace_down_to_the_journal_write()
    {
        await using var cluster = await GridUnderTest.StartAsync(output.WriteLine);
        var edge = cluster.Nodes[0];
        var store = edge.Services.GetRequiredService<IKeyValueStore>();

        // Warm the partitions up (recovered, owners known), then pick a key that another node owns.
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => edge.Client.Kv.PutAsync($"warm/{i}", "x")));
        string? key = null;
        string? owner = null;
        for (var i = 0; key is null; i++)
        {
            var candidate = $"traced/{i}";
            var node = await store.LocateAsync(store.PartitionOf(candidate));
            if (node != edge.Address.ToString())
            {
                (key, owner) = (candidate, node);
            }
        }

        var spans = new List<Activity>();
        using (Sdk.CreateTracerProviderBuilder()
                   .AddSource(GridTelemetry.ActivitySourceName, "Microsoft.AspNetCore")
                   .AddInMemoryExporter(spans)
                   .Build())
        {
            await edge.Client.Kv.PutAsync(key, "traced value");
            await Eventually.AwaitAsync(
                () => spans.Any(s => s.DisplayName == "journal write") ? null : $"{spans.Count} spans so far",
                TimeSpan.FromSeconds(10), "the journal write span to end");
        }

        foreach (var span in spans)
        {
            output.WriteLine($"{span.TraceId} {span.SpanId} <- {span.ParentSpanId} {span.Kind} '{span.DisplayName}' {string.Join(" ", span.Tags.Select(t => $"{t.Key}={t.Value}"))}");
        }

        var http = Assert.Single(spans, s => s.Source.Name == "Microsoft.AspNetCore" && s.Kind == ActivityKind.Server);
        var door = Assert.Single(spans, s => s.DisplayName == "kv PUT /kv/{**key}");
        var entity = Assert.Single(spans, s => s.DisplayName == "kv.partition Put");
        var write = Assert.Single(spans, s => s.DisplayName == "journal write");

        // One trace, parent to child: HTTP server → front door → owning partition (remote parent) → journal write.
        Assert.All([door, entity, write], s => Assert.Equal(http.TraceId, s.TraceId));
        Assert.Equal(http.SpanId, door.ParentSpanId);
        Assert.Equal(door.SpanId, entity.ParentSpanId);
        Assert.True(entity.HasRemoteParent, "the partition's span should continue a context that came over the wire");
        Assert.Equal(entity.SpanId, write.ParentSpanId);

        // The partition ran on the owner, not on the node that received the request.
        Assert.Equal(owner, entity.GetTagItem("actorgrid.node"));
        Assert.NotEqual(edge.Address.ToString(), entity.GetTagItem("actorgrid.node"));
        Assert.Equal("ok", door.GetTagItem("actorgrid.outcome"));
        Assert.Equal("kv.partition", write.GetTagItem("actorgrid.entity"));
        Assert.Equal(1, write.GetTagItem("actorgrid.journal.events"));
        Assert.True(write.Duration > TimeSpan.Zero);
    }
}
