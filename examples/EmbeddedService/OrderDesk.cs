using System.Globalization;
using System.Text;
using System.Text.Json;
using ActorGrid.Contracts;
using ActorGrid.Entities;
using Akka.Actor;

namespace EmbeddedService;

/// <summary>
/// The service's own supervision tree, OTP style: a <see cref="GridSupervisor"/> (one-for-one, at most 5 restarts
/// in 10 s, then it fails to its parent) over two workers that use the grid from inside actors — prices come from
/// the KV store, placed orders go out on the broker.
/// </summary>
public static class OrderDesk
{
    public const string Pricing = "pricing";
    public const string Events = "events";
    public const string Topic = "orders";

    public static Props Props(IKeyValueStore kv, ITopicWriter topics) => GridSupervisor.Props(
        SupervisorSpec.OneForOne(maxRestarts: 5, within: TimeSpan.FromSeconds(10)),
        new ChildSpec(Pricing, Akka.Actor.Props.Create(() => new PriceLookup(kv))),
        new ChildSpec(Events, Akka.Actor.Props.Create(() => new OrderEvents(topics))));

    public sealed record LookupPrice(string Sku);

    /// <summary>The unit price, or null when the catalogue (KV key <c>prices/{sku}</c>) has none.</summary>
    public sealed record Price(string Sku, decimal? UnitPrice);

    public sealed record Publish(OrdersProtocol.Order Order);

    public sealed record Published(int Partition, long Offset);

    /// <summary>Reads prices from the grid's KV store; never blocks: the read is piped back to the asker.</summary>
    private sealed class PriceLookup : ReceiveActor
    {
        public PriceLookup(IKeyValueStore kv)
        {
            Receive<LookupPrice>(q =>
            {
                kv.GetAsync("prices/" + q.Sku).PipeTo(Sender, success: entry => new Price(q.Sku,
                    entry is null ? null : decimal.Parse(Encoding.UTF8.GetString(entry.Value), CultureInfo.InvariantCulture)));
            });
        }
    }

    /// <summary>Publishes placed orders to the broker, idempotently: the order id is the producer id.</summary>
    private sealed class OrderEvents : ReceiveActor
    {
        public OrderEvents(ITopicWriter topics)
        {
            Receive<Publish>(p =>
            {
                var json = JsonSerializer.SerializeToUtf8Bytes(p.Order);
                topics.ProduceAsync(Topic, p.Order.Id, json, producerId: "order-" + p.Order.Id, sequence: 0)
                    .PipeTo(Sender, success: r => new Published(r.Partition, r.Offset));
            });
        }
    }
}
