using ActorGrid.Broker.Partitions;
using ActorGrid.Broker.Topics;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Tests;

/// <summary>Deleting a topic, in the pure state types of the topic and its partitions.</summary>
public sealed class TopicStateSpec
{
    private static readonly TopicConfig Orders = new("orders", 4, null, null);

    [Fact]
    public void A_deleted_topic_is_gone_a_repeated_delete_still_names_it_for_cleanup_and_it_can_be_created_again_differently()
    {
        var (created, _) = TopicState.Empty.Decide(new CreateTopic(Orders), 1);
        var state = TopicState.Empty.Apply(created!);

        var (deleted, reply) = state.Decide(new DeleteTopic("orders"), 2);
        Assert.Equal(new DeleteTopicResult(Orders, true), reply);
        state = state.Apply(deleted!);
        Assert.Null(state.Config);

        var (again, repeated) = state.Decide(new DeleteTopic("orders"), 3);
        Assert.Null(again);
        Assert.Equal(new DeleteTopicResult(Orders, false), repeated);
        Assert.Equal(new DeleteTopicResult(null, false), TopicState.Empty.Decide(new DeleteTopic("orders"), 3).Reply);

        var (recreated, created2) = state.Decide(new CreateTopic(Orders with { Partitions = 2 }), 4);
        Assert.Equal(TopicCreateOutcome.Created, created2.Outcome);
        Assert.Equal(2, state.Apply(recreated!).Config!.Partitions);
    }

    [Fact]
    public void A_partition_whose_events_were_deleted_without_a_snapshot_starts_empty_at_the_journal_end()
    {
        var state = new PartitionState(new Settings());
        state.AlignWithJournal(42);
        Assert.Equal((42L, 42L), (state.StartOffset, state.NextOffset));
    }
}
