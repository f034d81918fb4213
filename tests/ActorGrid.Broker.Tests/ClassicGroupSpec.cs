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
    public void After_a_restart_the_group_takes_commits_of_members_it_forgot_until_one_joins()
    {
        var fresh = ConsumerGroupState.Empty;
        var adopted = fresh.Decide(new CommitClassicOffsets("g", "old-member", 7, [new PartitionOffset("t", 0, 5)]));
        Assert.Single(adopted.Events);
        var (joined, _) = Run(fresh, Join(""), 0, "m1");
        Assert.Equal(ClassicGroupError.UnknownMember, ((ClassicGroupReply)joined.Decide(new CommitClassicOffsets("g", "old-member", 7, [])).Reply(joined)!).Error);
    }

    [Fact]
    public void Http_and_kafka_members_do_not_share_a_group()
    {
        var (kafka, _) = Run(ConsumerGroupState.Empty, Join(""), 0, "m1");
        var http = kafka.Decide(new JoinGroup("g", [new TopicSubscription("t", 1)], 5000, null), "h1");
        Assert.IsType<BrokerError>(http.Reply(kafka));
    }
}
