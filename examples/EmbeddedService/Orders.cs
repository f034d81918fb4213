using ActorGrid.Entities;
using ActorGrid.Grid;
using ActorGrid.Serialization;

namespace EmbeddedService;

/// <summary>The orders protocol: commands, events, replies and state, each bound to a stable manifest.</summary>
public static class OrdersProtocol
{
    /// <summary>What an order entity accepts.</summary>
    public interface IOrderCommand : IWithEntityId, IActorGridMessage;

    public sealed record PlaceOrder(string EntityId, string Sku, int Quantity, decimal UnitPrice) : IOrderCommand;

    public sealed record GetOrder(string EntityId) : IOrderCommand;

    public sealed record OrderPlaced(string Sku, int Quantity, decimal UnitPrice, DateTimeOffset At) : IActorGridMessage;

    /// <summary>The state of one order, and the reply to every command.</summary>
    public sealed record Order(string Id, string? Sku, int Quantity, decimal Total, bool Placed, string? Rejection = null) : IActorGridMessage;

    public static void RegisterManifests(ManifestRegistry manifests) => manifests
        .Add<PlaceOrder>("example.orders.place.v1")
        .Add<GetOrder>("example.orders.get.v1")
        .Add<OrderPlaced>("example.orders.placed.v1")
        .Add<Order>("example.orders.order.v1");
}

/// <summary>
/// The pure logic of an order (no actor, no I/O): placing is idempotent for the same content and refused for a
/// different one.
/// </summary>
public sealed class OrderBehavior : IEntityBehavior<OrdersProtocol.Order, OrdersProtocol.IOrderCommand, OrdersProtocol.OrderPlaced>
{
    public OrdersProtocol.Order Initial(string entityId) => new(entityId, null, 0, 0, Placed: false);

    public Decision<OrdersProtocol.Order, OrdersProtocol.OrderPlaced> Decide(OrdersProtocol.Order state, OrdersProtocol.IOrderCommand command) => command switch
    {
        OrdersProtocol.PlaceOrder { Quantity: < 1 } => Decision<OrdersProtocol.Order, OrdersProtocol.OrderPlaced>.Respond(state with { Rejection = "quantity must be at least 1" }),
        OrdersProtocol.PlaceOrder p when !state.Placed =>
            Decision<OrdersProtocol.Order, OrdersProtocol.OrderPlaced>.Persist(new OrdersProtocol.OrderPlaced(p.Sku, p.Quantity, p.UnitPrice, DateTimeOffset.UtcNow), s => s),
        OrdersProtocol.PlaceOrder p when p.Sku == state.Sku && p.Quantity == state.Quantity => Decision<OrdersProtocol.Order, OrdersProtocol.OrderPlaced>.Respond(state),
        OrdersProtocol.PlaceOrder => Decision<OrdersProtocol.Order, OrdersProtocol.OrderPlaced>.Respond(state with { Rejection = $"order {state.Id} was already placed with other content" }),
        _ => Decision<OrdersProtocol.Order, OrdersProtocol.OrderPlaced>.Respond(state),
    };

    public OrdersProtocol.Order Apply(OrdersProtocol.Order state, OrdersProtocol.OrderPlaced e) =>
        state with { Sku = e.Sku, Quantity = e.Quantity, Total = e.Quantity * e.UnitPrice, Placed = true, Rejection = null };
}
