using ActorGrid.Broker;
using ActorGrid.Grid;
using ActorGrid.Kafka;
using ActorGrid.KeyValue;
using ActorGrid.MapReduce;

namespace ActorGrid.Node;

/// <summary>The roles every ActorGrid node can host (which ones it hosts is <c>ActorGrid:Roles</c>), and the Kafka front door.</summary>
internal static class BuiltInRoles
{
    public static ActorGridBuilder WithBuiltInRoles(this ActorGridBuilder grid) => grid
        .WithKeyValue()
        .WithBroker()
        .WithMapReduce()
        .WithKafkaFrontDoor();
}
