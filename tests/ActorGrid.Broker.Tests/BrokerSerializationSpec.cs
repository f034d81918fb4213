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
        // The role's own manifests, plus the grid's (Core registers those for every builder, e.g. the ownership fence's reply).
        Assert.All(checkedManifests, m => Assert.True(
            m.StartsWith("broker.", StringComparison.Ordinal) || m.StartsWith("actorgrid.", StringComparison.Ordinal), m));
    }

    [Fact]
    public async Task Snapshots_and_events_stored_by_earlier_versions_keep_loading()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithBroker());

        var read = SerializationChecks.AssertGoldenPayloads(cluster[0].System, Path.Combine(AppContext.BaseDirectory, "Golden"),
            ["broker.partition-snapshot.v1", "broker.group-snapshot.v1", "broker.topic-directory-snapshot.v1", "broker.record-appended.v1",
                "broker.classic-group-changed.v1", "broker.topic-deleted.v1", "broker.topic-unregistered.v1", "broker.group-deleted.v1"]);

        var partition = Assert.IsType<BrokerProtocol.PartitionSnapshot>(read["broker.partition-snapshot.v1"]);
        Assert.Equal((10, 42), (partition.StartOffset, partition.NextOffset));
        Assert.Equal(40, Assert.Single(Assert.Single(partition.Producers).Batches).FirstOffset);
        var group = Assert.IsType<BrokerProtocol.GroupSnapshot>(read["broker.group-snapshot.v1"]);
        Assert.Equal(17, Assert.Single(group.Committed).Offset);
        Assert.Null(group.Classic); // written before snapshots kept the Kafka-protocol membership
        var classic = Assert.IsType<BrokerProtocol.ClassicGroupChanged>(read["broker.classic-group-changed.v1"]).Group;
        Assert.Equal((7, "range", 60000), (classic.Generation, classic.ProtocolName, Assert.Single(classic.Members).RebalanceTimeoutMs));
    }
}
