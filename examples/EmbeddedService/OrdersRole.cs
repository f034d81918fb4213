using ActorGrid.Contracts;
using ActorGrid.Entities;
using ActorGrid.Grid;
using ActorGrid.Http;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EmbeddedService;

/// <summary>
/// The service's role on the grid: sharded, event-sourced orders (ActorGrid's entity base), the supervised order
/// desk on every node, and the <c>/orders</c> HTTP API. Nodes that do not host <c>orders</c> still serve the API
/// by proxying to the nodes that do.
/// </summary>
public sealed class OrdersRole : IGridRole
{
    public const string RoleName = "orders";

    private readonly GridEntityRole<OrdersProtocol.Order, OrdersProtocol.IOrderCommand, OrdersProtocol.OrderPlaced> _entities =
        new(RoleName, () => new OrderBehavior(), OrdersProtocol.RegisterManifests);

    public string Name => RoleName;

    public IReadOnlyList<string> ShardTypeNames => _entities.ShardTypeNames;

    public void RegisterManifests(ManifestRegistry manifests) => _entities.RegisterManifests(manifests);

    public void AddServices(IServiceCollection services) => _entities.AddServices(services);

    public void Configure(AkkaConfigurationBuilder akka, GridContext context)
    {
        _entities.Configure(akka, context);
        akka.WithActors((system, registry, resolver) =>
        {
            var kv = resolver.GetService<IKeyValueStore>();
            var topics = resolver.GetService<ITopicWriter>();
            registry.Register<OrderDeskMarker>(system.ActorOf(OrderDesk.Props(kv, topics), "order-desk"));
        });
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/orders/{id}", async (string id, CheckoutRequest request, GridEntityClient<OrdersProtocol.IOrderCommand> orders, IRequiredActor<OrderDeskMarker> desk) =>
        {
            if (string.IsNullOrWhiteSpace(request.Sku) || request.Quantity < 1)
            {
                return GridResults.BadRequest("sku is required and quantity must be at least 1");
            }

            var timeout = TimeSpan.FromSeconds(10);
            var price = await desk.ActorRef.Ask<OrderDesk.Price>(new GridSupervisor.ToChild(OrderDesk.Pricing, new OrderDesk.LookupPrice(request.Sku)), timeout);
            if (price.UnitPrice is not { } unitPrice)
            {
                return GridResults.BadRequest($"no price for sku '{request.Sku}' (KV key prices/{request.Sku})");
            }

            var order = await orders.AskAsync<OrdersProtocol.Order>(new OrdersProtocol.PlaceOrder(id, request.Sku, request.Quantity, unitPrice), timeout);
            if (order.Rejection is not null)
            {
                return GridResults.Conflict(order.Rejection);
            }

            var published = await desk.ActorRef.Ask<OrderDesk.Published>(new GridSupervisor.ToChild(OrderDesk.Events, new OrderDesk.Publish(order)), timeout);
            return Results.Ok(new { order, published });
        });

        endpoints.MapGet("/orders/{id}", async (string id, GridEntityClient<OrdersProtocol.IOrderCommand> orders) =>
        {
            var order = await orders.AskAsync<OrdersProtocol.Order>(new OrdersProtocol.GetOrder(id));
            return order.Placed ? Results.Ok(order) : GridResults.NotFound($"order '{id}' does not exist");
        });
    }

    public sealed record CheckoutRequest(string Sku, int Quantity);
}

/// <summary>Registry key of the order desk.</summary>
public sealed class OrderDeskMarker;

public static class OrdersGridExtensions
{
    /// <summary>Adds the orders role to the grid this service joins.</summary>
    public static ActorGridBuilder WithOrders(this ActorGridBuilder grid) => grid.AddRole(new OrdersRole());
}
