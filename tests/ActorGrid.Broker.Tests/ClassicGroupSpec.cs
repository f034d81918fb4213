using ActorGrid.Broker.Groups;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Tests;

/// <summary>Kafka's classic group protocol in <see cref="ConsumerGroupState"/>, without actors.</summary>
public sealed class ClassicGroupSpec
{
    private static JoinClassicGroup Join(string member, string metadata = "m", int rebalanceMs = 1000) =>
        new("g", member, "client", "host", 6000, rebalanceMs, "consumer", [new ClassicProtocol("range", [.. metadata.Select(c => (byte)c)])]);

    private static (ConsumerGroupState State, ClassicOutcome Outcome) Run(ConsumerGroupState state, object command, long now, string newId = "new") =>
        state.DecideClassic(command, newId, now);

    [Fact]
    public void A_lone_member_joins_and_becomes_leader_with_generation_one_then_syncs_its_assignment()
    {
        var (state, joined) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        Assert.Null(joined.Reply);
        var release = Assert.Single(joined.Released);
        var result = Assert.IsType<ClassicJoinResult>(release.Reply);
        Assert.Equal(("m1", 1, "m1", "range"), (result.MemberId, result.Generation, result.LeaderId, result.ProtocolName));
        Assert.Single(result.Members);

        var (synced, sync) = Run(state, new SyncClassicGroup("g", "m1", 1, [new ClassicAssignment("m1", [9])]), 1);
        Assert.Equal([9], Assert.IsType<ClassicSyncResult>(sync.Reply).Assignment);
        Assert.Equal(ClassicPhase.Stable, synced.Classic.Phase);
    }

    [Fact]
    public void A_second_member_waits_at_the_join_barrier_until_the_first_rejoins_and_the_follower_sync_waits_for_the_leader()
    {
        var (s, _) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        (s, _) = Run(s, new SyncClassicGroup("g", "m1", 1, [new ClassicAssignment("m1", [1])]), 1);
        (s, var second) = Run(s, Join(""), 2, "m2");
        Assert.Null(second.Reply);
        Assert.Empty(second.Released);

        var (s2, heartbeat) = Run(s, new ClassicHeartbeat("g", "m1", 1), 3);
        Assert.Equal(ClassicGroupError.RebalanceInProgress, Assert.IsType<ClassicGroupReply>(heartbeat.Reply).Error);

        var (s3, rejoin) = Run(s2, Join("m1"), 4);
        Assert.Equal(2, rejoin.Released.Length);
        var leader = rejoin.Released.Select(r => (ClassicJoinResult)r.Reply).Single(r => r.MemberId == "m1");
        Assert.Equal((2, "m1", 2), (leader.Generation, leader.LeaderId, leader.Members.Length));
        Assert.Empty(rejoin.Released.Select(r => (ClassicJoinResult)r.Reply).Single(r => r.MemberId == "m2").Members);

        var (s4, followerSync) = Run(s3, new SyncClassicGroup("g", "m2", 2, []), 5);
        Assert.Null(followerSync.Reply);
        var (_, leaderSync) = Run(s4, new SyncClassicGroup("g", "m1", 2, [new ClassicAssignment("m1", [1]), new ClassicAssignment("m2", [2])]), 6);
        Assert.Equal([1], Assert.IsType<ClassicSyncResult>(leaderSync.Reply).Assignment);
        var released = Assert.Single(leaderSync.Released);
        Assert.Equal(("m2", false), (released.MemberId, released.Join));
        Assert.Equal([2], ((ClassicSyncResult)released.Reply).Assignment);
    }

    [Fact]
    public void A_member_that_does_not_rejoin_in_time_is_dropped_and_the_rest_rebalance_without_it()
    {
        var (s, _) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        (s, _) = Run(s, new SyncClassicGroup("g", "m1", 1, []), 1);
        (s, _) = Run(s, Join("", rebalanceMs: 1000), 2, "m2");
        var (s2, early) = Run(s, new object(), 500);
        Assert.Empty(early.Released);
        var (s3, late) = Run(s2, new object(), 1003);
        var result = (ClassicJoinResult)Assert.Single(late.Released).Reply;
        Assert.Equal(("m2", "m2", 2), (result.MemberId, result.LeaderId, result.Generation));
        Assert.False(s3.Classic.Members.ContainsKey("m1"));
    }

    [Fact]
    public void Commits_need_the_current_generation_and_leaving_triggers_a_rebalance()
    {
        var (s, _) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        (s, _) = Run(s, new SyncClassicGroup("g", "m1", 1, []), 1);
        var stale = s.Decide(new CommitClassicOffsets("g", "m1", 0, [new PartitionOffset("t", 0, 5)]));
        Assert.Empty(stale.Events);
        Assert.Equal(ClassicGroupError.IllegalGeneration, ((ClassicGroupReply)stale.Reply(s)!).Error);
        var ok = s.Decide(new CommitClassicOffsets("g", "m1", 1, [new PartitionOffset("t", 0, 5)]));
        Assert.IsType<OffsetsCommitted>(Assert.Single(ok.Events));
        Assert.Equal(ClassicGroupError.UnknownMember, ((ClassicGroupReply)s.Decide(new CommitClassicOffsets("g", "zz", 1, [])).Reply(s)!).Error);

        var (left, leave) = Run(s, new LeaveClassicGroup("g", ["m1"]), 2);
        Assert.Equal(ClassicGroupError.None, ((ClassicGroupReply)leave.Reply!).Error);
        Assert.Equal(ClassicPhase.Empty, left.Classic.Phase);
    }

    [Fact]
    public void A_completed_rebalance_is_persisted_and_a_group_recovered_elsewhere_takes_its_members_commits_and_restarts_their_sessions()
    {
        var (s, _) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        (s, _) = Run(s, Join(""), 1, "m2");
        (s, var rejoin) = Run(s, Join("m1"), 2);
        Assert.Null(rejoin.Persist); // joined, not yet assigned: nothing a new home needs
        (s, var followerSync) = Run(s, new SyncClassicGroup("g", "m2", 2, []), 3);
        Assert.Null(followerSync.Persist);
        (s, var leaderSync) = Run(s, new SyncClassicGroup("g", "m1", 2, [new ClassicAssignment("m1", [1]), new ClassicAssignment("m2", [2])]), 4);

        var saved = Assert.IsType<ClassicGroupSnapshot>(leaderSync.Persist);
        Assert.Equal((2, "m1", "range", false), (saved.Generation, saved.LeaderId, saved.ProtocolName, saved.Rebalancing));
        Assert.Equal([("m1", (byte)1), ("m2", (byte)2)], saved.Members.Select(m => (m.MemberId, Assert.Single(m.Assignment))));

        // The node crashed: the entity recovers from its journal on another node at t=100 000.
        var recovered = ConsumerGroupState.Empty.Apply(new ClassicGroupChanged(saved), 100_000);
        Assert.Equal((ClassicPhase.Stable, 2), (recovered.Classic.Phase, recovered.Classic.Generation));
        var commit = recovered.Decide(new CommitClassicOffsets("g", "m2", 2, [new PartitionOffset("t", 1, 41)]));
        Assert.IsType<OffsetsCommitted>(Assert.Single(commit.Events));
        Assert.Equal(ClassicGroupError.None, ((ClassicGroupReply)commit.Reply(recovered)!).Error);
        Assert.Equal(ClassicGroupError.None, ((ClassicGroupReply)Run(recovered, new ClassicHeartbeat("g", "m1", 2), 100_001).Outcome.Reply!).Error);
        Assert.Equal([2], ((ClassicSyncResult)Run(recovered, new SyncClassicGroup("g", "m2", 2, []), 100_001).Outcome.Reply!).Assignment);
        Assert.Equal(ClassicGroupError.UnknownMember, ((ClassicGroupReply)recovered.Decide(new CommitClassicOffsets("g", "zz", 2, [])).Reply(recovered)!).Error);

        // Sessions run from the recovery, not from the members' last heartbeat on the crashed node.
        Assert.Equal(2, Run(recovered, new object(), 100_000 + 6000).State.Classic.Members.Count);
        var (expired, expiry) = Run(recovered, new object(), 100_000 + 6001);
        Assert.Empty(expired.Classic.Members);
        Assert.Empty(Assert.IsType<ClassicGroupSnapshot>(expiry.Persist).Members);
    }

    [Fact]
    public void The_live_group_keeps_what_happened_after_a_change_it_persisted_and_a_snapshot_keeps_what_was_persisted()
    {
        var (s, _) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        (s, var sync) = Run(s, new SyncClassicGroup("g", "m1", 1, [new ClassicAssignment("m1", [1])]), 1);
        (s, _) = Run(s, Join(""), 2, "m2"); // a rebalance starts while the change is written

        var written = s.Apply(new ClassicGroupChanged(sync.Persist!), 3);
        Assert.Equal((ClassicPhase.PreparingRebalance, 2), (written.Classic.Phase, written.Classic.Members.Count));

        var restored = ConsumerGroupState.FromSnapshot(written.ToSnapshot(), 50);
        Assert.Equal((ClassicPhase.Stable, 1, "m1"), (restored.Classic.Phase, restored.Classic.Generation, Assert.Single(restored.Classic.Members).Key));
        Assert.Equal(50, restored.Classic.Members["m1"].LastSeenMs);
    }

    [Fact]
    public void A_group_persisted_after_a_member_left_is_restored_rebalancing_and_drops_members_that_do_not_rejoin()
    {
        var (s, _) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        (s, _) = Run(s, Join(""), 1, "m2");
        (s, _) = Run(s, Join("m1"), 2);
        (s, _) = Run(s, new SyncClassicGroup("g", "m1", 2, [new ClassicAssignment("m1", [1]), new ClassicAssignment("m2", [2])]), 3);
        (_, var leave) = Run(s, new LeaveClassicGroup("g", ["m2"]), 4);
        var saved = Assert.IsType<ClassicGroupSnapshot>(leave.Persist);
        Assert.True(saved.Rebalancing);
        Assert.Equal("m1", Assert.Single(saved.Members).MemberId);

        var recovered = ConsumerGroupState.Empty.Apply(new ClassicGroupChanged(saved), 10_000);
        Assert.Equal(ClassicPhase.PreparingRebalance, recovered.Classic.Phase);
        Assert.Equal(ClassicGroupError.RebalanceInProgress, ((ClassicGroupReply)Run(recovered, new ClassicHeartbeat("g", "m1", 2), 10_001).Outcome.Reply!).Error);
        var (rejoined, join) = Run(recovered, Join("m1"), 10_002);
        var result = (ClassicJoinResult)Assert.Single(join.Released).Reply;
        Assert.Equal((3, "m1"), (result.Generation, result.LeaderId));
        Assert.Equal(ClassicPhase.CompletingRebalance, rejoined.Classic.Phase);
    }

    [Fact]
    public void Http_and_kafka_members_do_not_share_a_group()
    {
        var (kafka, _) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        var http = kafka.Decide(new JoinGroup("g", [new TopicSubscription("t", 1)], 5000, null), "h1");
        Assert.IsType<BrokerError>(http.Reply(kafka));
    }
}
