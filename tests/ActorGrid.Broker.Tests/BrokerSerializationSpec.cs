using ActorGrid.Grid;
using ActorGrid.TestKit;

namespace ActorGrid.Broker.Tests;

public sealed class BrokerSerializationSpec
{
    [Fact]
    public async Task Every_broker_message_event_and_snapshot_round_trips_through_the_ActorGrid_serializer()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithBroker());
        var manifests = new ActorGridBuilder().WithBroker().BuildManifests();

        var checkedManifests = SerializationChecks.AssertRoundTripsAll(cluster[0].System, manifests);

        Assert.Equal(manifests.Entries.Count, checkedManifests.Count);
        Assert.All(checkedManifests, m => Assert.StartsWith("broker.", m, StringComparison.Ordinal));
    }
}
