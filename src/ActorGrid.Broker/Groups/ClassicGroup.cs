#nullable enable
using System.Collections.Immutable;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Groups;

/// <summary>Where a classic-protocol group is in its rebalance cycle (Kafka's group states).</summary>
internal enum ClassicPhase
{
    /// <summary>No members.</summary>
    Empty,

    /// <summary>Waiting for every member to (re)join.</summary>
    PreparingRebalance,

    /// <summary>Joined; waiting for the leader's assignments.</summary>
    CompletingRebalance,

    /// <summary>Assignments delivered.</summary>
    Stable,
}

/// <summary>A member of a classic-protocol group.</summary>
internal sealed record ClassicMember(
    string MemberId,
    string ClientId,
    string ClientHost,
    int SessionTimeoutMs,
    int RebalanceTimeoutMs,
    ImmutableArray<ClassicProtocol> Protocols,
    byte[] Assignment,
    long LastSeenMs,
    bool AwaitingJoin,
    bool AwaitingSync);

/// <summary>A reply owed to a member whose JoinGroup or SyncGroup was parked.</summary>
internal sealed record ClassicRelease(string MemberId, bool Join, object Reply);

/// <summary>
/// What a classic-protocol request does: the group after it, the reply to the requester (null: parked until a
/// later request or tick releases it), the replies owed to parked members and, when the membership changed in a way a
/// new home of the group must know (a completed rebalance, members gone), the metadata to persist: then the replies
/// are sent once it is durable, as Kafka's coordinator answers SyncGroup only once the group is written.
/// </summary>
internal sealed record ClassicOutcome(ClassicGroup Group, object? Reply, ImmutableArray<ClassicRelease> Released, ClassicGroupSnapshot? Persist = null);

/// <summary>
/// The broker side of Kafka's classic consumer-group protocol, free of actors: members join (a barrier: the
/// rebalance completes when every known member has joined, or when the rebalance timeout drops the others), the
/// leader computes assignments with a client-side assignor (range, cooperative-sticky, ...) and sends them in
/// SyncGroup, heartbeats learn of a new rebalance. The membership is persisted (<see cref="ClassicGroupSnapshot"/>)
/// when a rebalance completes and when members leave or are dropped, so the group restarted on another node knows its
/// members and their generation (their commits are taken, nothing is delivered twice); joins in progress and
/// heartbeats stay in memory. Committed offsets are persisted by <see cref="ConsumerGroupState"/>.
/// </summary>
internal sealed record ClassicGroup
{
    /// <summary>A group without classic members.</summary>
    public static readonly ClassicGroup Empty = new();

    /// <summary>The rebalance phase.</summary>
    public ClassicPhase Phase { get; init; } = ClassicPhase.Empty;

    /// <summary>Moves on every completed rebalance.</summary>
    public int Generation { get; init; }

    /// <summary>The members' protocol type (<c>consumer</c> for Kafka consumers).</summary>
    public string ProtocolType { get; init; } = "";

    /// <summary>The assignor chosen for the current generation.</summary>
    public string ProtocolName { get; init; } = "";

    /// <summary>The member that computes assignments.</summary>
    public string LeaderId { get; init; } = "";

    /// <summary>When a rebalance stops waiting for members that did not rejoin (Unix ms).</summary>
    public long RebalanceDeadlineMs { get; init; }

    /// <summary>How many membership changes were handed out to persist (<see cref="ClassicGroupSnapshot.Revision"/>).</summary>
    public long Revision { get; init; }

    /// <summary>Members by id.</summary>
    public ImmutableSortedDictionary<string, ClassicMember> Members { get; init; } =
        ImmutableSortedDictionary.Create<string, ClassicMember>(StringComparer.Ordinal);

    /// <summary>JoinGroup: add or refresh the member, start or join a rebalance.</summary>
    public ClassicOutcome Join(JoinClassicGroup command, string newMemberId, long nowMs)
    {
        if (Members.Count > 0 && (command.ProtocolType != ProtocolType
                                  || !command.Protocols.Any(p => Members.Values.All(m => m.MemberId == command.MemberId || m.Protocols.Any(q => q.Name == p.Name)))))
        {
            return Now(JoinError(ClassicGroupError.InconsistentProtocol, command.MemberId));
        }

        if (command.Protocols.Length == 0)
        {
            return Now(JoinError(ClassicGroupError.InconsistentProtocol, command.MemberId));
        }

        var memberId = command.MemberId.Length == 0 ? newMemberId : command.MemberId;
        Members.TryGetValue(memberId, out var existing);
        if (command.MemberId.Length > 0 && existing is null)
        {
            return Now(JoinError(ClassicGroupError.UnknownMember, command.MemberId));
        }

        var protocols = command.Protocols.ToImmutableArray();
        if (existing is not null && Phase == ClassicPhase.Stable && memberId != LeaderId && SameProtocols(existing.Protocols, protocols))
        {
            // A follower rejoining with nothing new gets the current generation back (Kafka does the same).
            var touched = this with { Members = Members.SetItem(memberId, existing with { LastSeenMs = nowMs }) };
            return new ClassicOutcome(touched, new ClassicJoinResult(ClassicGroupError.None, Generation, ProtocolName, LeaderId, memberId, []), []);
        }

        var member = new ClassicMember(memberId, command.ClientId, command.ClientHost, command.SessionTimeoutMs, command.RebalanceTimeoutMs,
            protocols, existing?.Assignment ?? [], nowMs, AwaitingJoin: true, AwaitingSync: false);
        var group = this with { Members = Members.SetItem(memberId, member), ProtocolType = command.ProtocolType };
        var released = ImmutableArray.CreateBuilder<ClassicRelease>();
        group = group.StartRebalance(nowMs, released);
        return group.TryCompleteJoin(nowMs, force: false, null, released);
    }

    /// <summary>SyncGroup: the leader's assignments complete the rebalance; a follower waits for them.</summary>
    public ClassicOutcome Sync(SyncClassicGroup command, long nowMs)
    {
        if (!Members.TryGetValue(command.MemberId, out var member))
        {
            return Now(new ClassicSyncResult(ClassicGroupError.UnknownMember, []));
        }

        if (command.Generation != Generation)
        {
            return Now(new ClassicSyncResult(ClassicGroupError.IllegalGeneration, []));
        }

        var group = Touch(command.MemberId, nowMs);
        switch (Phase)
        {
            case ClassicPhase.Stable:
                return new ClassicOutcome(group, new ClassicSyncResult(ClassicGroupError.None, member.Assignment), []);
            case ClassicPhase.CompletingRebalance when command.MemberId == LeaderId:
            {
                var assignments = command.Assignments.GroupBy(a => a.MemberId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Assignment, StringComparer.Ordinal);
                var members = group.Members.ToImmutableSortedDictionary(
                    m => m.Key, m => m.Value with { Assignment = assignments.GetValueOrDefault(m.Key, []), AwaitingSync = false }, StringComparer.Ordinal);
                var released = group.Members.Values.Where(m => m.AwaitingSync && m.MemberId != command.MemberId)
                    .Select(m => new ClassicRelease(m.MemberId, Join: false, new ClassicSyncResult(ClassicGroupError.None, members[m.MemberId].Assignment)))
                    .ToImmutableArray();
                return Saved(new ClassicOutcome(group with { Members = members, Phase = ClassicPhase.Stable },
                    new ClassicSyncResult(ClassicGroupError.None, members[command.MemberId].Assignment), released));
            }

            case ClassicPhase.CompletingRebalance:
                return new ClassicOutcome(group with { Members = group.Members.SetItem(command.MemberId, group.Members[command.MemberId] with { AwaitingSync = true }) }, null, []);
            default:
                return new ClassicOutcome(group, new ClassicSyncResult(ClassicGroupError.RebalanceInProgress, []), []);
        }
    }

    /// <summary>Heartbeat: keeps the session and tells the member of a rebalance.</summary>
    public ClassicOutcome Heartbeat(ClassicHeartbeat command, long nowMs)
    {
        if (!Members.ContainsKey(command.MemberId))
        {
            return Now(new ClassicGroupReply(ClassicGroupError.UnknownMember, Generation));
        }

        var group = Touch(command.MemberId, nowMs);
        var error = Phase == ClassicPhase.PreparingRebalance ? ClassicGroupError.RebalanceInProgress
            : command.Generation != Generation ? ClassicGroupError.IllegalGeneration
            : ClassicGroupError.None;
        return new ClassicOutcome(group, new ClassicGroupReply(error, Generation), []);
    }

    /// <summary>LeaveGroup: the members go and the others rebalance.</summary>
    public ClassicOutcome Leave(LeaveClassicGroup command, long nowMs)
    {
        var leaving = command.MemberIds.Where(Members.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
        if (leaving.Count == 0)
        {
            return Now(new ClassicGroupReply(ClassicGroupError.UnknownMember, Generation));
        }

        var released = ImmutableArray.CreateBuilder<ClassicRelease>();
        var group = Remove(leaving, released);
        group = group.StartRebalance(nowMs, released);
        var outcome = group.TryCompleteJoin(nowMs, force: false, null, released);
        return Saved(outcome with { Reply = new ClassicGroupReply(ClassicGroupError.None, outcome.Group.Generation) });
    }

    /// <summary>Whether a commit from <paramref name="memberId"/> in <paramref name="generation"/> is accepted now.</summary>
    public ClassicGroupError CheckCommit(string memberId, int generation)
    {
        if (memberId.Length == 0 && generation < 0)
        {
            // A consumer that assigns partitions itself (no group membership) may commit while the group is empty.
            return Members.IsEmpty ? ClassicGroupError.None : ClassicGroupError.UnknownMember;
        }

        if (!Members.ContainsKey(memberId))
        {
            return ClassicGroupError.UnknownMember;
        }

        if (generation != Generation)
        {
            return ClassicGroupError.IllegalGeneration;
        }

        // Commits are fine while members rejoin (they commit before revoking); not between join and sync.
        return Phase == ClassicPhase.CompletingRebalance ? ClassicGroupError.RebalanceInProgress : ClassicGroupError.None;
    }

    /// <summary>Expires members whose session ran out and ends rebalances whose timeout ran out.</summary>
    public ClassicOutcome Tick(long nowMs)
    {
        var expired = Members.Values
            .Where(m => !m.AwaitingJoin && !m.AwaitingSync && nowMs - m.LastSeenMs > m.SessionTimeoutMs)
            .Select(m => m.MemberId)
            .ToList();
        var released = ImmutableArray.CreateBuilder<ClassicRelease>();
        var group = this;
        if (expired.Count > 0)
        {
            group = group.Remove(expired, released).StartRebalance(nowMs, released);
        }

        var outcome = group.TryCompleteJoin(nowMs, force: group.Phase == ClassicPhase.PreparingRebalance && nowMs >= group.RebalanceDeadlineMs, null, released);
        return outcome.Group.Members.Count < Members.Count ? Saved(outcome) : outcome;
    }

    /// <summary>The metadata to persist.</summary>
    public ClassicGroupSnapshot ToSnapshot() => new(
        Revision, Generation, ProtocolType, ProtocolName, LeaderId, Rebalancing: Phase != ClassicPhase.Stable && !Members.IsEmpty,
        [.. Members.Values.Select(m => new ClassicMemberSnapshot(m.MemberId, m.ClientId, m.ClientHost, m.SessionTimeoutMs, m.RebalanceTimeoutMs, [.. m.Protocols], m.Assignment))]);

    /// <summary>
    /// The group as persisted, on its new home: every member is heard from at <paramref name="nowMs"/> (its session
    /// starts again); a group persisted between generations is rebalancing, its members join again within the
    /// rebalance timeout. Requests that were parked on the old home are gone: their clients ask again.
    /// </summary>
    public static ClassicGroup Restore(ClassicGroupSnapshot snapshot, long nowMs)
    {
        var members = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, snapshot.Members.Select(m => KeyValuePair.Create(m.MemberId,
            new ClassicMember(m.MemberId, m.ClientId, m.ClientHost, m.SessionTimeoutMs, m.RebalanceTimeoutMs, [.. m.Protocols], m.Assignment, nowMs,
                AwaitingJoin: false, AwaitingSync: false))));
        var group = new ClassicGroup
        {
            Revision = snapshot.Revision,
            Generation = snapshot.Generation,
            ProtocolType = snapshot.ProtocolType,
            ProtocolName = snapshot.ProtocolName,
            LeaderId = snapshot.LeaderId,
            Members = members,
            Phase = members.IsEmpty ? ClassicPhase.Empty : snapshot.Rebalancing ? ClassicPhase.PreparingRebalance : ClassicPhase.Stable,
        };
        return snapshot.Rebalancing ? group with { RebalanceDeadlineMs = group.Deadline(nowMs) } : group;
    }

    /// <summary>Marks <paramref name="memberId"/> as heard from.</summary>
    public ClassicGroup Touch(string memberId, long nowMs) =>
        Members.TryGetValue(memberId, out var m) ? this with { Members = Members.SetItem(memberId, m with { LastSeenMs = nowMs }) } : this;

    /// <summary>The group as DescribeGroups shows it.</summary>
    public ClassicGroupView Describe(string group, PartitionOffset[] committed) => new(
        group,
        Phase.ToString(),
        ProtocolType,
        Phase == ClassicPhase.Stable || Phase == ClassicPhase.CompletingRebalance ? ProtocolName : "",
        Generation,
        [.. Members.Values.Select(m => new ClassicMemberView(m.MemberId, m.ClientId, m.ClientHost,
            m.Protocols.FirstOrDefault(p => p.Name == ProtocolName)?.Metadata ?? [], m.Assignment))],
        committed);

    private ClassicGroup StartRebalance(long nowMs, ImmutableArray<ClassicRelease>.Builder released)
    {
        if (Phase == ClassicPhase.PreparingRebalance || Members.IsEmpty && Phase == ClassicPhase.Empty)
        {
            return Members.IsEmpty ? this : this with { Phase = ClassicPhase.PreparingRebalance, RebalanceDeadlineMs = Deadline(nowMs) };
        }

        // Followers waiting for assignments of the generation being replaced must join again.
        foreach (var waiting in Members.Values.Where(m => m.AwaitingSync))
        {
            released.Add(new ClassicRelease(waiting.MemberId, Join: false, new ClassicSyncResult(ClassicGroupError.RebalanceInProgress, [])));
        }

        var members = Members.ToImmutableSortedDictionary(m => m.Key, m => m.Value with { AwaitingSync = false }, StringComparer.Ordinal);
        return this with { Members = members, Phase = ClassicPhase.PreparingRebalance, RebalanceDeadlineMs = Deadline(nowMs) };
    }

    private long Deadline(long nowMs) => nowMs + (Members.IsEmpty ? 0 : Members.Values.Max(m => m.RebalanceTimeoutMs));

    private ClassicOutcome TryCompleteJoin(long nowMs, bool force, object? reply, ImmutableArray<ClassicRelease>.Builder released)
    {
        if (Phase != ClassicPhase.PreparingRebalance || (!force && Members.Values.Any(m => !m.AwaitingJoin)))
        {
            return new ClassicOutcome(this, reply, released.ToImmutable());
        }

        var group = Remove([.. Members.Values.Where(m => !m.AwaitingJoin).Select(m => m.MemberId)], released);
        if (group.Members.IsEmpty)
        {
            return new ClassicOutcome(group with { Phase = ClassicPhase.Empty, Generation = Generation + 1, LeaderId = "", ProtocolName = "" }, reply, released.ToImmutable());
        }

        var members = group.Members.Values.ToList();
        var protocol = members[0].Protocols.First(p => members.All(m => m.Protocols.Any(q => q.Name == p.Name))).Name;
        var leader = group.Members.ContainsKey(LeaderId) ? LeaderId : members[0].MemberId;
        var generation = Generation + 1;
        var all = members.Select(m => new ClassicMemberMetadata(m.MemberId, m.Protocols.First(p => p.Name == protocol).Metadata)).ToArray();
        foreach (var m in members)
        {
            released.Add(new ClassicRelease(m.MemberId, Join: true,
                new ClassicJoinResult(ClassicGroupError.None, generation, protocol, leader, m.MemberId, m.MemberId == leader ? all : [])));
        }

        var joined = group.Members.ToImmutableSortedDictionary(m => m.Key, m => m.Value with { AwaitingJoin = false, LastSeenMs = nowMs }, StringComparer.Ordinal);
        return new ClassicOutcome(
            group with { Members = joined, Phase = ClassicPhase.CompletingRebalance, Generation = generation, ProtocolName = protocol, LeaderId = leader },
            reply,
            released.ToImmutable());
    }

    private ClassicGroup Remove(IReadOnlyCollection<string> memberIds, ImmutableArray<ClassicRelease>.Builder released)
    {
        foreach (var id in memberIds)
        {
            var m = Members[id];
            if (m.AwaitingJoin)
            {
                released.Add(new ClassicRelease(id, Join: true, JoinError(ClassicGroupError.UnknownMember, id)));
            }
            else if (m.AwaitingSync)
            {
                released.Add(new ClassicRelease(id, Join: false, new ClassicSyncResult(ClassicGroupError.UnknownMember, [])));
            }
        }

        return this with { Members = Members.RemoveRange(memberIds) };
    }

    private ClassicOutcome Now(object reply) => new(this, reply, []);

    // The outcome with its group's metadata to persist, under the next revision.
    private static ClassicOutcome Saved(ClassicOutcome outcome)
    {
        var group = outcome.Group with { Revision = outcome.Group.Revision + 1 };
        return outcome with { Group = group, Persist = group.ToSnapshot() };
    }

    private ClassicJoinResult JoinError(ClassicGroupError error, string memberId) => new(error, Generation, "", LeaderId, memberId, []);

    private static bool SameProtocols(ImmutableArray<ClassicProtocol> a, ImmutableArray<ClassicProtocol> b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.Item1.Name == p.Item2.Name && p.Item1.Metadata.AsSpan().SequenceEqual(p.Item2.Metadata));
}
