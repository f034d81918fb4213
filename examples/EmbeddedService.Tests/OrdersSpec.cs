using System.Net;
using System.Net.Http.Json;
using ActorGrid.Broker;
using ActorGrid.Configuration;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace EmbeddedService.Tests;

/// <summary>
/// A multi-node spec of the embedding service, written with ActorGrid.TestKit the way a user would: two grid nodes
/// host everything, the third is the service joining with only its own role.
/// </summary>
public sealed class OrdersSpec(ITestOutputHelper output)
{
    private static GridTestClusterOptions Kit(ITestOutputHelper output) => new()
    {
        Log = output.WriteLine,
        Configure = (index, options) => index == 2 ? options with { Roles = [OrdersRole.RoleName] } : options,
    };

    [Fact]
    public async Task An_order_priced_from_kv_is_published_to_the_broker_and_survives_a_crash()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue().WithBroker().WithOrders(), Kit(output));
        var service = cluster[2].Http;
        (await cluster[0].Http.PutAsync("kv/prices/book", new StringContent("12.50"))).EnsureSuccessStatusCode();
        (await cluster[0].Http.PutAsJsonAsync("topics/orders", new { partitions = 2 })).EnsureSuccessStatusCode();

        using var placed = await service.PostAsJsonAsync("orders/o-1", new { sku = "book", quantity = 2 });
        Assert.Equal(HttpStatusCode.OK, placed.StatusCode);
        var body = await placed.Content.ReadFromJsonAsync<PlaceBody>();
        Assert.Equal(25.00m, body!.Order.Total);

        // The same order again is idempotent; different content is a conflict.
        Assert.Equal(HttpStatusCode.OK, (await service.PostAsJsonAsync("orders/o-1", new { sku = "book", quantity = 2 })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await service.PostAsJsonAsync("orders/o-1", new { sku = "book", quantity = 3 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await service.PostAsJsonAsync("orders/o-2", new { sku = "unknown", quantity = 1 })).StatusCode);

        await cluster.CrashAsync(0);

        await Eventually.AwaitAsync(async () =>
        {
            using var read = await service.GetAsync("orders/o-1");
            return read.IsSuccessStatusCode ? null : $"GET answered {(int)read.StatusCode}";
        }, TimeSpan.FromSeconds(45), "the order to be served from a survivor");
        var order = await service.GetFromJsonAsync<OrdersProtocol.Order>("orders/o-1");
        Assert.Equal(new OrdersProtocol.Order("o-1", "book", 2, 25.00m, true), order);

        // The topic partition may have lived on the crashed node too: it answers once it has moved.
        FetchBody? fetched = null;
        await Eventually.AwaitAsync(async () =>
        {
            using var read = await service.GetAsync($"topics/orders/partitions/{body.Published.Partition}/messages?offset=0&max=100");
            fetched = read.IsSuccessStatusCode ? await read.Content.ReadFromJsonAsync<FetchBody>() : null;
            return fetched is null ? $"fetch answered {(int)read.StatusCode}" : null;
        }, TimeSpan.FromSeconds(45), "the orders topic to be served from a survivor");
        Assert.Single(fetched!.Records, r => r.Key == "o-1");
    }

    private sealed record PlaceBody(OrdersProtocol.Order Order, OrderDesk.Published Published);

    private sealed record FetchBody(IReadOnlyList<FetchedRecord> Records);

    private sealed record FetchedRecord(long Offset, string? Key, string Value);
}
