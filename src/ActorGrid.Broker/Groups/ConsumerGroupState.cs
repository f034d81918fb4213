#nullable enable
using System.Collections.Immutable;
using static ActorGrid.Broker.BrokerProtocol;
using GroupDecision = ActorGrid.Entities.Decision<ActorGrid.Broker.Groups.ConsumerGroupState, ActorGrid.Broker.BrokerProtocol.IGroupEvent>;

namespace ActorGrid.Broker.Groups;

/// <summary>A member of a consumer group.</summary>
internal sealed record GroupMember(string MemberId, ImmutableArray<TopicSubscription> Topics, int SessionTimeoutMs, bool FromLatest = false);

/// <summary>
/// A consumer group, free of actors: membership with a generation number that moves on every change, the partition
/// assignment derived from it, committed offsets (persisted) and, in memory only, each member's last heartbeat and
/// fetch positions. Committed offset = the next offset to read.
/// </summary>
internal sealed record ConsumerGroupState
{
    /// <summary>A group nobody joined.</summary>
    public static readonly ConsumerGroupState Empty = new();

    /// <summary>Moves on every membership change; 0 before the first member joined.</summary>
    public int Generation { get; init; }

    /// <summary>Members by id.</summary>
    public ImmutableSortedDictionary<string, GroupMember> Members { get; init; } =
        ImmutableSortedDictionary.Create<string, GroupMember>(StringComparer.Ordinal);

    /// <summary>Committed offsets.</summary>
    public ImmutableDictionary<TopicPartition, long> Committed { get; init; } = ImmutableDictionary<TopicPartition, long>.Empty;

    /// <summary>The current assignment: partition → member.</summary>
    public ImmutableDictionary<TopicPartition, string> Owners { get; init; } = ImmutableDictionary<TopicPartition, string>.Empty;

    /// <summary>Last time each member was heard from (Unix ms; not persisted).</summary>
    public ImmutableDictionary<string, long> LastSeen { get; init; } = ImmutableDictionary.Create<string, long>(StringComparer.Ordinal);

    /// <summary>Fetch positions of the current owners (not persisted: a new owner starts at the committed offset).</summary>
    public ImmutableDictionary<TopicPartition, long> Positions { get; init; } = ImmutableDictionary<TopicPartition, long>.Empty;

    /// <summary>The members that use Kafka's classic group protocol (the live group; it persists through <see cref="ClassicGroupChanged"/>).</summary>
    public ClassicGroup Classic { get; init; } = ClassicGroup.Empty;

    /// <summary>The classic group's metadata as last persisted (what a snapshot keeps).</summary>
    public ClassicGroupSnapshot? ClassicSaved { get; init; }

    /// <summary>Whether the group has ever had members or offsets.</summary>
    public bool Exists => Generation > 0 || !Committed.IsEmpty || Classic.Generation > 0 || !Classic.Members.IsEmpty;

    /// <summary>The partitions assigned to <paramref name="memberId"/>, sorted.</summary>
    public TopicPartition[] AssignmentsOf(string memberId) =>
        [.. Owners.Where(o => o.Value == memberId).Select(o => o.Key).OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition)];

    /// <summary>Join, or refresh the subscription of an existing member (no new generation if nothing changed).</summary>
    public GroupDecision Decide(JoinGroup command, string newMemberId, int maxMembers = int.MaxValue)
    {
        if (!Classic.Members.IsEmpty)
        {
            return Refuse(BrokerErrorCode.Invalid,
                $"group '{command.Group}' has Kafka-protocol members; a group is joined over HTTP or over the Kafka protocol, not both");
        }

        var memberId = command.MemberId ?? newMemberId;
        if (!Members.ContainsKey(memberId) && Members.Count >= maxMembers)
        {
            return GroupDecision.Respond(new BrokerError(BrokerErrorCode.LimitReached, $"the group has {Members.Count} members, the most allowed (MaxMembersPerGroup)"));
        }

        var topics = command.Topics.OrderBy(t => t.Topic, StringComparer.Ordinal).ToImmutableArray();
        if (Members.TryGetValue(memberId, out var existing)
            && existing.SessionTimeoutMs == command.SessionTimeoutMs && existing.Topics.SequenceEqual(topics) && existing.FromLatest == command.FromLatest)
        {
            return new GroupDecision([], s => JoinReply(s, memberId));
        }

        return new GroupDecision([new MemberJoined(memberId, [.. topics], command.SessionTimeoutMs, command.FromLatest)], s => JoinReply(s, memberId));
    }

    /// <summary>Leave the group.</summary>
    public GroupDecision Decide(LeaveGroup command) =>
        Members.ContainsKey(command.MemberId)
            ? new GroupDecision([new MemberLeft(command.MemberId)], s => new LeaveGroupResult(s.Generation))
            : UnknownMember(command.Group, command.MemberId);

    /// <summary>Commit offsets of partitions the member owns in the current generation.</summary>
    public GroupDecision Decide(CommitOffsets command)
    {
        if (!Members.ContainsKey(command.MemberId))
        {
            return UnknownMember(command.Group, command.MemberId);
        }

        if (command.Generation is { } generation && generation != Generation)
        {
            return Refuse(BrokerErrorCode.StaleGeneration,
                $"generation {generation} is stale: group '{command.Group}' is at generation {Generation}; poll to get the new assignment");
        }

        if (command.Offsets.FirstOrDefault(o => o.Offset < 0) is { } negative)
        {
            return Refuse(BrokerErrorCode.Invalid, $"offset {negative.Offset} for {negative.Topic}/{negative.Partition} is negative");
        }

        var foreign = command.Offsets
            .Where(o => !Owners.TryGetValue(new TopicPartition(o.Topic, o.Partition), out var owner) || owner != command.MemberId)
            .Select(o => $"{o.Topic}/{o.Partition}")
            .ToList();
        if (foreign.Count > 0)
        {
            return Refuse(BrokerErrorCode.NotAssigned,
                $"{string.Join(", ", foreign)} not assigned to member '{command.MemberId}' in generation {Generation} of group '{command.Group}'; poll to get the current assignment");
        }

        return command.Offsets.Length == 0
            ? new GroupDecision([], s => new CommitOffsetsResult(s.Generation))
            : new GroupDecision([new OffsetsCommitted(command.MemberId, command.Offsets)], s => new CommitOffsetsResult(s.Generation));
    }

    /// <summary>An administrator sets committed offsets: only while the group has no live members (HTTP or Kafka).</summary>
    public GroupDecision Decide(ResetGroupOffsets command)
    {
        if (LiveMembers() is { } refusal)
        {
            return refusal;
        }

        if (command.Offsets.FirstOrDefault(o => o.Offset < 0) is { } negative)
        {
            return Refuse(BrokerErrorCode.Invalid, $"offset {negative.Offset} for {negative.Topic}/{negative.Partition} is negative");
        }

        return new GroupDecision(command.Offsets.Length == 0 ? [] : [new OffsetsCommitted("", command.Offsets)], s => new ResetGroupOffsetsResult(s.CommittedOffsets()));
    }

    /// <summary>An administrator deletes the group and its committed offsets: only while it has no live members.</summary>
    public GroupDecision Decide(DeleteGroup command, long nowMs)
    {
        if (LiveMembers() is { } refusal)
        {
            return refusal;
        }

        return Exists
            ? new GroupDecision([new GroupDeleted(nowMs)], _ => new DeleteGroupResult(command.Group))
            : Refuse(BrokerErrorCode.GroupNotFound, $"group '{command.Group}' has no members and no committed offsets");
    }

    /// <summary>Kafka's JoinGroup, SyncGroup, Heartbeat, LeaveGroup and their timeouts: the classic protocol's outcome.</summary>
    public (ConsumerGroupState State, ClassicOutcome Outcome) DecideClassic(object command, string newMemberId, long nowMs)
    {
        if (command is JoinClassicGroup join && !Members.IsEmpty)
        {
            return (this, new ClassicOutcome(Classic, new ClassicJoinResult(ClassicGroupError.InconsistentProtocol, 0, "", "", join.MemberId, []), []));
        }

        var outcome = command switch
        {
            JoinClassicGroup j => Classic.Join(j, newMemberId, nowMs),
            SyncClassicGroup sync => Classic.Sync(sync, nowMs),
            ClassicHeartbeat heartbeat => Classic.Heartbeat(heartbeat, nowMs),
            LeaveClassicGroup leave => Classic.Leave(leave, nowMs),
            _ => Classic.Tick(nowMs),
        };
        return (this with { Classic = outcome.Group }, outcome);
    }

    /// <summary>Kafka's OffsetCommit: offsets of a member of the current generation (the broker does not know a classic group's assignment).</summary>
    public GroupDecision Decide(CommitClassicOffsets command)
    {
        var error = Members.IsEmpty ? Classic.CheckCommit(command.MemberId, command.Generation) : ClassicGroupError.InconsistentProtocol;
        if (error != ClassicGroupError.None)
        {
            return new GroupDecision([], s => new ClassicGroupReply(error, s.Classic.Generation));
        }

        if (command.Offsets.FirstOrDefault(o => o.Offset < 0) is { } negative)
        {
            return Refuse(BrokerErrorCode.Invalid, $"offset {negative.Offset} for {negative.Topic}/{negative.Partition} is negative");
        }

        return new GroupDecision(
            command.Offsets.Length == 0 ? [] : [new OffsetsCommitted(command.MemberId, command.Offsets)],
            s => new ClassicGroupReply(ClassicGroupError.None, s.Classic.Generation));
    }

    /// <summary>The group as Kafka's DescribeGroups and OffsetFetch see it.</summary>
    public ClassicGroupView DescribeClassic(string group) => Classic.Describe(group, CommittedOffsets());

    /// <summary>The committed offsets, by topic and partition.</summary>
    public PartitionOffset[] CommittedOffsets() =>
        [.. Committed.OrderBy(c => c.Key.Topic, StringComparer.Ordinal).ThenBy(c => c.Key.Partition)
            .Select(c => new PartitionOffset(c.Key.Topic, c.Key.Partition, c.Value))];

    /// <summary>Members whose session timed out at <paramref name="nowMs"/>.</summary>
    public IReadOnlyList<string> ExpiredMembers(long nowMs) =>
        [.. Members.Values.Where(m => nowMs - LastSeen.GetValueOrDefault(m.MemberId, nowMs) > m.SessionTimeoutMs).Select(m => m.MemberId)];

    /// <summary>Remove members whose session timed out (re-checked against the state at decision time).</summary>
    public GroupDecision DecideExpiry(long nowMs) =>
        new([.. ExpiredMembers(nowMs).Select(id => (IGroupEvent)new MemberExpired(id))], s => new LeaveGroupResult(s.Generation));

    /// <summary>Heartbeat and learn where to fetch: the member's partitions and positions (committed offset, else the start).</summary>
    public (ConsumerGroupState State, object Reply) Poll(BeginPoll command, long nowMs)
    {
        if (!Members.ContainsKey(command.MemberId))
        {
            return (this, UnknownMemberError(command.Group, command.MemberId));
        }

        var state = Touch(command.MemberId, nowMs);
        var assignments = AssignmentsOf(command.MemberId);
        var fromLatest = Members[command.MemberId].FromLatest;
        var positions = assignments
            .Select(tp => Positions.TryGetValue(tp, out var p) || Committed.TryGetValue(tp, out p)
                ? new FetchPosition(tp.Topic, tp.Partition, p)
                : new FetchPosition(tp.Topic, tp.Partition, null, Latest: fromLatest))
            .ToArray();
        return (state, new PollPlan(Generation, assignments, positions, Members[command.MemberId].SessionTimeoutMs));
    }

    /// <summary>Move fetch positions after a poll delivered records (refused when the generation moved on).</summary>
    public (ConsumerGroupState State, object Reply) Advance(AdvancePositions command, long nowMs)
    {
        if (!Members.ContainsKey(command.MemberId))
        {
            return (this, UnknownMemberError(command.Group, command.MemberId));
        }

        var state = Touch(command.MemberId, nowMs);
        if (command.Generation != Generation)
        {
            return (state, new PositionsAdvanced(false, Generation));
        }

        var positions = state.Positions;
        foreach (var p in command.Positions)
        {
            var tp = new TopicPartition(p.Topic, p.Partition);
            if (Owners.TryGetValue(tp, out var owner) && owner == command.MemberId)
            {
                positions = positions.SetItem(tp, p.Offset);
            }
        }

        return (state with { Positions = positions }, new PositionsAdvanced(true, Generation));
    }

    /// <summary>Marks <paramref name="memberId"/> as heard from.</summary>
    public ConsumerGroupState Touch(string memberId, long nowMs) =>
        Members.ContainsKey(memberId) ? this with { LastSeen = LastSeen.SetItem(memberId, nowMs) } : this;

    /// <summary>The state after <paramref name="e"/>.</summary>
    public ConsumerGroupState Apply(IGroupEvent e, long nowMs) => e switch
    {
        MemberJoined joined => WithMembers(
            Members.SetItem(joined.MemberId, new GroupMember(joined.MemberId, [.. joined.Topics], joined.SessionTimeoutMs, joined.FromLatest)))
            with { LastSeen = LastSeen.SetItem(joined.MemberId, nowMs) },
        MemberLeft left => WithMembers(Members.Remove(left.MemberId)) with { LastSeen = LastSeen.Remove(left.MemberId) },
        MemberExpired expired => WithMembers(Members.Remove(expired.MemberId)) with { LastSeen = LastSeen.Remove(expired.MemberId) },
        OffsetsCommitted committed => this with
        {
            Committed = Committed.SetItems(committed.Offsets.Select(o => KeyValuePair.Create(new TopicPartition(o.Topic, o.Partition), o.Offset))),
            LastSeen = Members.ContainsKey(committed.MemberId) ? LastSeen.SetItem(committed.MemberId, nowMs) : LastSeen,
        },
        GroupDeleted => Empty,
        // The live group made this change itself (it is at the revision already) and may have moved on since; in
        // recovery the group is restored from it.
        ClassicGroupChanged changed => this with
        {
            ClassicSaved = changed.Group,
            Classic = changed.Group.Revision > Classic.Revision ? ClassicGroup.Restore(changed.Group, nowMs) : Classic,
        },
        _ => throw new ArgumentException($"Unknown group event {e.GetType()}", nameof(e)),
    };

    /// <summary>The group as seen from outside.</summary>
    public GroupDescription Describe(string group, long nowMs) => new(
        group,
        Generation,
        [.. Members.Values.Select(m => new GroupMemberView(
            m.MemberId,
            [.. m.Topics.Select(t => t.Topic)],
            m.SessionTimeoutMs,
            Math.Max(0, nowMs - LastSeen.GetValueOrDefault(m.MemberId, nowMs)),
            AssignmentsOf(m.MemberId),
            [.. AssignmentsOf(m.MemberId).Where(Positions.ContainsKey).Select(tp => new PartitionOffset(tp.Topic, tp.Partition, Positions[tp]))]))],
        Subscriptions(),
        CommittedOffsets());

    /// <summary>Every topic some member subscribes to, with its partition count.</summary>
    public TopicSubscription[] Subscriptions() =>
        [.. Members.Values.SelectMany(m => m.Topics)
            .GroupBy(t => t.Topic, StringComparer.Ordinal)
            .Select(g => new TopicSubscription(g.Key, g.Max(t => t.Partitions)))
            .OrderBy(t => t.Topic, StringComparer.Ordinal)];

    /// <summary>The persisted part of the state.</summary>
    public GroupSnapshot ToSnapshot() => new(
        Generation,
        [.. Members.Values.Select(m => new GroupMemberSnapshot(m.MemberId, [.. m.Topics], m.SessionTimeoutMs, m.FromLatest))],
        [.. Committed.Select(c => new PartitionOffset(c.Key.Topic, c.Key.Partition, c.Value))],
        ClassicSaved);

    /// <summary>A state restored from a snapshot; every member is considered heard from at <paramref name="nowMs"/>.</summary>
    public static ConsumerGroupState FromSnapshot(GroupSnapshot snapshot, long nowMs)
    {
        var members = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            snapshot.Members.Select(m => KeyValuePair.Create(m.MemberId, new GroupMember(m.MemberId, [.. m.Topics], m.SessionTimeoutMs, m.FromLatest))));
        return new ConsumerGroupState
        {
            Generation = snapshot.Generation,
            Members = members,
            Owners = Assign(members.Values),
            Committed = snapshot.Committed.ToImmutableDictionary(c => new TopicPartition(c.Topic, c.Partition), c => c.Offset),
            LastSeen = members.Keys.ToImmutableDictionary(id => id, _ => nowMs, StringComparer.Ordinal),
            Classic = snapshot.Classic is { } classic ? ClassicGroup.Restore(classic, nowMs) : ClassicGroup.Empty,
            ClassicSaved = snapshot.Classic,
        };
    }

    /// <summary>
    /// Assigns every partition of every subscribed topic to one member subscribed to that topic: topics in name order,
    /// partitions in order, dealt round-robin over the members (in id order) with one running counter across topics
    /// so that single-partition topics do not all land on the first member.
    /// </summary>
    public static ImmutableDictionary<TopicPartition, string> Assign(IEnumerable<GroupMember> members)
    {
        var list = members.OrderBy(m => m.MemberId, StringComparer.Ordinal).ToList();
        var topics = list.SelectMany(m => m.Topics)
            .GroupBy(t => t.Topic, StringComparer.Ordinal)
            .Select(g => (Topic: g.Key, Partitions: g.Max(t => t.Partitions)))
            .OrderBy(t => t.Topic, StringComparer.Ordinal);
        var owners = ImmutableDictionary.CreateBuilder<TopicPartition, string>();
        var counter = 0;
        foreach (var (topic, partitions) in topics)
        {
            var subscribers = list.Where(m => m.Topics.Any(t => t.Topic == topic)).ToList();
            for (var p = 0; p < partitions; p++)
            {
                owners[new TopicPartition(topic, p)] = subscribers[counter++ % subscribers.Count].MemberId;
            }
        }

        return owners.ToImmutable();
    }

    private ConsumerGroupState WithMembers(ImmutableSortedDictionary<string, GroupMember> members)
    {
        var owners = Assign(members.Values);
        // A partition that keeps its owner keeps the owner's fetch position; a moved one restarts at the committed offset.
        var positions = Positions.Where(p => owners.TryGetValue(p.Key, out var o) && Owners.TryGetValue(p.Key, out var before) && o == before)
            .ToImmutableDictionary();
        return this with { Members = members, Owners = owners, Positions = positions, Generation = Generation + 1 };
    }

    private static JoinGroupResult JoinReply(ConsumerGroupState s, string memberId) => new(memberId, s.Generation, s.AssignmentsOf(memberId));

    private static GroupDecision UnknownMember(string group, string memberId) =>
        new([], _ => UnknownMemberError(group, memberId));

    private static BrokerError UnknownMemberError(string group, string memberId) =>
        new(BrokerErrorCode.UnknownMember, $"member '{memberId}' is not in group '{group}' (it left or its session timed out); join again");

    private GroupDecision? LiveMembers()
    {
        var live = Members.Count + Classic.Members.Count;
        return live == 0 ? null : Refuse(BrokerErrorCode.GroupNotEmpty,
            $"the group has {live} live member(s); stop its consumers (or wait for their sessions to time out) first");
    }

    // A refusal: nothing is persisted.
    private static GroupDecision Refuse(BrokerErrorCode code, string detail) => new([], _ => new BrokerError(code, detail));
}
