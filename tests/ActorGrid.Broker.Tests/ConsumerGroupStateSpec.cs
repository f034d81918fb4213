using ActorGrid.Broker.Groups;
using static ActorGrid.Broker.BrokerProtocol;
using GroupDecision = ActorGrid.Entities.Decision<ActorGrid.Broker.Groups.ConsumerGroupState, ActorGrid.Broker.BrokerProtocol.IGroupEvent>;

namespace ActorGrid.Broker.Tests;

public sealed class ConsumerGroupStateSpec
{
    private const long Now = 1_700_000_000_000;
    private static readonly TopicSubscription Orders = new("orders", 4);

    [Fact]
    public void The_first_member_gets_every_partition_in_generation_1()
    {
        var (state, reply) = Run(ConsumerGroupState.Empty, Join(), "a");

        var joined = Assert.IsType<JoinGroupResult>(reply);
        Assert.Equal(("a", 1), (joined.MemberId, joined.Generation));
        Assert.Equal(Enumerable.Range(0, 4).Select(p => new TopicPartition("orders", p)), joined.Assignments);
        Assert.Equal(1, state.Generation);
    }

    [Fact]
    public void A_second_member_triggers_a_rebalance_with_a_new_generation()
    {
        var state = Run(ConsumerGroupState.Empty, Join(), "a").State;

        var (after, reply) = Run(state, Join(), "b");

        var joined = Assert.IsType<JoinGroupResult>(reply);
        Assert.Equal(2, joined.Generation);
        var a = after.AssignmentsOf("a");
        var b = after.AssignmentsOf("b");
        Assert.Equal(2, a.Length);
        Assert.Equal(2, b.Length);
        Assert.Empty(a.Intersect(b));
    }

    [Fact]
    public void Rejoining_unchanged_keeps_the_generation()
    {
        var state = Run(ConsumerGroupState.Empty, Join(), "a").State;

        var decision = state.Decide(Join() with { MemberId = "a" }, "ignored");

        Assert.Empty(decision.Events);
        Assert.Equal(1, Assert.IsType<JoinGroupResult>(decision.Reply(state)).Generation);
    }

    [Fact]
    public void A_full_group_refuses_a_new_member_but_lets_its_members_rejoin()
    {
        var state = Run(Run(ConsumerGroupState.Empty, Join(), "a").State, Join(), "b").State;

        Assert.Equal(BrokerErrorCode.LimitReached, Refusal(state.Decide(Join(), "c", maxMembers: 2)));
        Assert.IsType<JoinGroupResult>(state.Decide(Join() with { MemberId = "a" }, "ignored", maxMembers: 2).Reply(state));
    }

    [Fact]
    public void Commits_are_refused_for_unknown_members_stale_generations_and_partitions_of_others()
    {
        var state = Run(Run(ConsumerGroupState.Empty, Join(), "a").State, Join(), "b").State;
        var ofB = state.AssignmentsOf("b")[0];

        Assert.Equal(BrokerErrorCode.UnknownMember, Refusal(state.Decide(Commit("nobody", null, "orders", 0, 1))));
        Assert.Equal(BrokerErrorCode.StaleGeneration, Refusal(state.Decide(Commit("a", 1, "orders", 0, 1))));
        Assert.Equal(BrokerErrorCode.NotAssigned, Refusal(state.Decide(Commit("a", 2, ofB.Topic, ofB.Partition, 1))));
        Assert.Equal(BrokerErrorCode.Invalid, Refusal(state.Decide(Commit("b", 2, ofB.Topic, ofB.Partition, -1))));
    }

    [Fact]
    public void Polls_start_at_the_committed_offset_or_the_start_and_follow_the_advanced_position()
    {
        var state = Run(ConsumerGroupState.Empty, Join(), "a").State;
        state = Apply(state, state.Decide(Commit("a", 1, "orders", 2, 40)));

        var plan = Plan(ref state, "a");
        Assert.Equal(40, plan.Positions.Single(p => p.Partition == 2).Offset);
        Assert.Null(plan.Positions.Single(p => p.Partition == 0).Offset);

        var (advanced, reply) = state.Advance(new AdvancePositions("g", "a", 1, [new PartitionOffset("orders", 2, 45)]), Now);
        Assert.True(Assert.IsType<PositionsAdvanced>(reply).Accepted);
        Assert.Equal(45, Plan(ref advanced, "a").Positions.Single(p => p.Partition == 2).Offset);

        var (_, stale) = advanced.Advance(new AdvancePositions("g", "a", 0, [new PartitionOffset("orders", 2, 50)]), Now);
        Assert.False(Assert.IsType<PositionsAdvanced>(stale).Accepted);
    }

    [Fact]
    public void A_partition_that_moves_restarts_at_the_committed_offset_for_its_new_owner()
    {
        var state = Run(ConsumerGroupState.Empty, Join(), "a").State;
        state = Apply(state, state.Decide(Commit("a", 1, "orders", 1, 10)));
        state = state.Advance(new AdvancePositions("g", "a", 1, [.. Enumerable.Range(0, 4).Select(p => new PartitionOffset("orders", p, 20))]), Now).State;

        state = Run(state, Join(), "b").State;

        var moved = state.AssignmentsOf("b");
        var planB = Plan(ref state, "b");
        Assert.All(planB.Positions, p => Assert.Equal(p.Partition == 1 ? 10 : (long?)null, p.Offset));
        var planA = Plan(ref state, "a");
        Assert.All(planA.Positions, p => Assert.Equal(20, p.Offset));
        Assert.Equal(4, moved.Length + planA.Positions.Length);
    }

    [Fact]
    public void A_member_that_stops_polling_expires_and_its_partitions_go_to_the_others()
    {
        var state = Run(ConsumerGroupState.Empty, Join(1000), "a").State;
        state = Run(state, Join(1000), "b").State;
        state = state.Touch("a", Now + 900);

        Assert.Empty(state.ExpiredMembers(Now + 1000));
        Assert.Equal(["b"], state.ExpiredMembers(Now + 1500));

        var expiry = state.DecideExpiry(Now + 1500);
        state = Apply(state, expiry);

        Assert.Equal(3, state.Generation);
        Assert.Equal(4, state.AssignmentsOf("a").Length);
        Assert.Equal(BrokerErrorCode.UnknownMember, Refusal(state.Decide(Commit("b", null, "orders", 0, 1))));
    }

    [Fact]
    public void Leaving_rebalances_and_a_snapshot_keeps_members_offsets_and_assignment()
    {
        var state = Run(Run(ConsumerGroupState.Empty, Join(), "a").State, Join(), "b").State;
        var ofA = state.AssignmentsOf("a")[0];
        state = Apply(state, state.Decide(Commit("a", 2, ofA.Topic, ofA.Partition, 7)));
        state = Apply(state, state.Decide(new LeaveGroup("g", "b")));

        var restored = ConsumerGroupState.FromSnapshot(state.ToSnapshot(), Now);

        Assert.Equal(3, restored.Generation);
        Assert.Equal(["a"], restored.Members.Keys);
        Assert.Equal(4, restored.AssignmentsOf("a").Length);
        Assert.Equal(7, restored.Committed[ofA]);
        Assert.True(restored.Exists);
    }

    [Fact]
    public void Single_partition_topics_spread_over_the_members()
    {
        var topics = Enumerable.Range(0, 4).Select(i => new TopicSubscription($"t{i}", 1)).ToArray();
        var members = new[] { "a", "b" }.Select(id => new GroupMember(id, [.. topics], 1000));

        var owners = ConsumerGroupState.Assign(members);

        Assert.Equal(2, owners.Values.Count(o => o == "a"));
        Assert.Equal(2, owners.Values.Count(o => o == "b"));
    }

    [Fact]
    public void Members_only_get_partitions_of_topics_they_subscribe_to()
    {
        var members = new[]
        {
            new GroupMember("a", [new TopicSubscription("x", 2)], 1000),
            new GroupMember("b", [new TopicSubscription("x", 2), new TopicSubscription("y", 3)], 1000),
        };

        var owners = ConsumerGroupState.Assign(members);

        Assert.All(Enumerable.Range(0, 3), p => Assert.Equal("b", owners[new TopicPartition("y", p)]));
        Assert.Equal(5, owners.Count);
    }

    [Fact]
    public void Offsets_are_reset_and_the_group_deleted_only_without_live_members()
    {
        var (state, _) = Run(ConsumerGroupState.Empty, Join(), "a");
        state = Apply(state, state.Decide(Commit("a", 1, "orders", 0, 9)));
        var reset = new ResetGroupOffsets("g", [new PartitionOffset("orders", 0, 2), new PartitionOffset("orders", 1, 0)]);

        Assert.Equal(BrokerErrorCode.GroupNotEmpty, Assert.IsType<BrokerError>(state.Decide(reset).Reply(state)).Code);
        Assert.Equal(BrokerErrorCode.GroupNotEmpty, Assert.IsType<BrokerError>(state.Decide(new DeleteGroup("g"), Now).Reply(state)).Code);
        Assert.Empty(state.Decide(new DeleteGroup("g"), Now).Events);

        state = Apply(state, state.Decide(new LeaveGroup("g", "a")));
        var decision = state.Decide(reset);
        state = Apply(state, decision);
        Assert.Equal([new PartitionOffset("orders", 0, 2), new PartitionOffset("orders", 1, 0)], Assert.IsType<ResetGroupOffsetsResult>(decision.Reply(state)).Committed);
        Assert.Equal(BrokerErrorCode.Invalid,
            Assert.IsType<BrokerError>(state.Decide(new ResetGroupOffsets("g", [new PartitionOffset("orders", 0, -1)])).Reply(state)).Code);

        var delete = state.Decide(new DeleteGroup("g"), Now);
        state = Apply(state, delete);
        Assert.IsType<DeleteGroupResult>(delete.Reply(state));
        Assert.False(state.Exists);
        Assert.Empty(state.Committed);
        Assert.Equal(BrokerErrorCode.GroupNotFound, Assert.IsType<BrokerError>(state.Decide(new DeleteGroup("g"), Now).Reply(state)).Code);
    }

    [Fact]
    public void A_member_joined_from_latest_starts_where_the_group_has_no_committed_offset_at_the_end_and_keeps_it_across_a_snapshot()
    {
        var (state, _) = Run(ConsumerGroupState.Empty, Join() with { FromLatest = true }, "a");
        state = Apply(state, state.Decide(Commit("a", 1, "orders", 0, 9)));

        var plan = Plan(ref state, "a");
        Assert.Equal(new FetchPosition("orders", 0, 9), plan.Positions[0]);
        Assert.Equal(new FetchPosition("orders", 1, null, Latest: true), plan.Positions[1]);
        Assert.True(ConsumerGroupState.FromSnapshot(state.ToSnapshot(), Now).Members["a"].FromLatest);

        // Once the gateway resolved the end, the position is the group's: later polls do not skip what arrived.
        (state, _) = state.Advance(new AdvancePositions("g", "a", 1, [new PartitionOffset("orders", 1, 40)]), Now);
        Assert.Equal(new FetchPosition("orders", 1, 40), Plan(ref state, "a").Positions[1]);
    }

    private static JoinGroup Join(int sessionTimeoutMs = 10_000) => new("g", [Orders], sessionTimeoutMs, null);

    private static CommitOffsets Commit(string member, int? generation, string topic, int partition, long offset) =>
        new("g", member, generation, [new PartitionOffset(topic, partition, offset)]);

    private static (ConsumerGroupState State, object Reply) Run(ConsumerGroupState state, JoinGroup join, string newId)
    {
        var decision = state.Decide(join, newId);
        var after = Apply(state, decision);
        return (after, decision.Reply(after)!);
    }

    private static ConsumerGroupState Apply(ConsumerGroupState state, GroupDecision decision) =>
        decision.Events.Aggregate(state, (s, e) => s.Apply(e, Now));

    private static BrokerErrorCode Refusal(GroupDecision decision)
    {
        Assert.Empty(decision.Events);
        return Assert.IsType<BrokerError>(decision.Reply(ConsumerGroupState.Empty)).Code;
    }

    private static PollPlan Plan(ref ConsumerGroupState state, string member)
    {
        var (after, reply) = state.Poll(new BeginPoll("g", member), Now);
        state = after;
        return Assert.IsType<PollPlan>(reply);
    }
}
