#nullable enable
using ActorGrid.Entities;
using Akka.Actor;
using Akka.Cluster.Sharding;
using static ActorGrid.Broker.BrokerProtocol;
using Settings = ActorGrid.Broker.BrokerProtocol.Settings;

namespace ActorGrid.Broker.Groups;

/// <summary>
/// One consumer group: membership, assignment and committed offsets, persisted; heartbeats and fetch positions in
/// memory. Commands that change the group go through the grid's one write path
/// (<see cref="DurableEntity{TState, TCommand, TEvent}"/>): those that arrive while a write is in flight are written
/// together next (group commit), so frequent commits cost one journal write per batch. A timer removes members
/// whose session timed out.
/// </summary>
internal sealed class ConsumerGroupEntity : DurableEntity<ConsumerGroupState, object, IGroupEvent>, IWithTimers
{
    private static readonly TimeSpan SessionCheckInterval = TimeSpan.FromMilliseconds(250);
    private readonly string _group;
    private readonly int _maxMembers;
    private bool _passivating;
    private readonly Dictionary<(string MemberId, bool Join), IActorRef> _parked = [];

    public ConsumerGroupEntity(string group, Settings settings)
        : base($"broker/group/{group}", ConsumerGroupState.Empty, new DurableEntitySettings { SnapshotEvery = settings.SnapshotEvery })
    {
        _group = group;
        _maxMembers = settings.MaxMembersPerGroup;
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override string EntityKind => "broker.group";

    /// <summary>Props for the group <paramref name="group"/>.</summary>
    public static Props PropsFor(string group, Settings settings) => Props.Create(() => new ConsumerGroupEntity(group, settings));

    /// <inheritdoc />
    protected override void HandleCommand(object message)
    {
        switch (message)
        {
            case JoinGroup join:
                // A heartbeat counts on arrival, not once the command's write is done.
                if (join.MemberId is { } memberId)
                {
                    State = State.Touch(memberId, NowUnixMs);
                }

                Submit(join, Sender);
                break;
            case CommitOffsets commit:
                State = State.Touch(commit.MemberId, NowUnixMs);
                Submit(commit, Sender);
                break;
            case LeaveGroup leave:
                Submit(leave, Sender);
                break;
            case CommitClassicOffsets or ResetGroupOffsets or DeleteGroup:
                Submit(message, Sender);
                break;
            case ClassicDelivery delivery:
                Deliver(delivery);
                break;
            case JoinClassicGroup or SyncClassicGroup or ClassicHeartbeat or LeaveClassicGroup:
                Classic(message);
                break;
            case DescribeClassicGroup:
                TryServe(Sender, State.DescribeClassic(_group));
                break;
            case CheckSessions:
                if (!State.Classic.Members.IsEmpty)
                {
                    Classic(CheckSessions.Instance);
                }

                if (State.ExpiredMembers(NowUnixMs).Count > 0)
                {
                    Submit(CheckSessions.Instance, ActorRefs.Nobody);
                }

                break;
            case BeginPoll poll:
                var (polled, pollReply) = State.Poll(poll, NowUnixMs);
                State = polled;
                Sender.Tell(pollReply);
                PassivateIfAbsent();
                break;
            case AdvancePositions advance:
                var (advanced, advanceReply) = State.Advance(advance, NowUnixMs);
                State = advanced;
                Sender.Tell(advanceReply);
                PassivateIfAbsent();
                break;
            case DescribeGroup:
                TryServe(Sender, State.Exists
                    ? State.Describe(_group, NowUnixMs)
                    : new BrokerError(BrokerErrorCode.GroupNotFound, $"group '{_group}' has no members and no committed offsets"));
                PassivateIfAbsent();
                break;
            case StopEntity:
                StopWhenDrained();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <inheritdoc />
    protected override Decision<ConsumerGroupState, IGroupEvent> Decide(ConsumerGroupState state, object command) => command switch
    {
        JoinGroup join => state.Decide(join, NewMemberId(), _maxMembers),
        LeaveGroup leave => state.Decide(leave),
        CommitOffsets commit => state.Decide(commit),
        CommitClassicOffsets commit => state.Decide(commit),
        ResetGroupOffsets reset => state.Decide(reset),
        DeleteGroup delete => state.Decide(delete, NowUnixMs),
        SaveClassicGroup save => new([new ClassicGroupChanged(save.Group)], _ => save.Delivery),
        _ => state.DecideExpiry(NowUnixMs),
    };

    /// <inheritdoc />
    protected override ConsumerGroupState Apply(ConsumerGroupState state, IGroupEvent @event) => state.Apply(@event, NowUnixMs);

    /// <inheritdoc />
    protected override object ErrorReply(object command, EntityFailure failure, string detail) =>
        // The membership could not be persisted: it still holds here, so the members get their answers all the same.
        command is SaveClassicGroup save ? save.Delivery : new BrokerError(BrokerErrorCode.Unavailable, detail);

    /// <inheritdoc />
    protected override object? ToSnapshot(ConsumerGroupState state) => state.ToSnapshot();

    /// <inheritdoc />
    protected override ConsumerGroupState FromSnapshot(object snapshot) => ConsumerGroupState.FromSnapshot((GroupSnapshot)snapshot, NowUnixMs);

    /// <inheritdoc />
    protected override void OnCommitted(IReadOnlyList<IGroupEvent> events, long firstSequenceNr)
    {
        if (events.Any(e => e is GroupDeleted))
        {
            // Recovery then starts from the empty group; older snapshots are deleted once it is saved.
            SaveSnapshotNow();
            PassivateIfAbsent();
        }
    }

    /// <inheritdoc />
    protected override void OnRecoveryCompleted() =>
        Timers.StartPeriodicTimer("sessions", CheckSessions.Instance, SessionCheckInterval);

    /// <summary>
    /// The classic (Kafka) protocol changes the live group without a write and answers at once, or parks the request
    /// (a JoinGroup at the barrier, a follower's SyncGroup) until a later one releases it. A change a new home of the
    /// group must know (a completed rebalance, members gone) is persisted first: its answers go out once it is durable.
    /// </summary>
    private void Classic(object command)
    {
        var newMemberId = NewMemberId();
        var (state, outcome) = State.DecideClassic(command, newMemberId, NowUnixMs);
        State = state;
        (string, bool)? park = command switch
        {
            JoinClassicGroup join => (join.MemberId.Length == 0 ? newMemberId : join.MemberId, true),
            SyncClassicGroup sync => (sync.MemberId, false),
            _ => null,
        };
        if (outcome.Reply is null && park is { } key)
        {
            // A member that asks again while parked replaces its earlier request (that one times out at the client).
            _parked[key] = Sender;
        }

        var delivery = new ClassicDelivery(Sender, outcome.Reply, outcome.Released);
        if (outcome.Persist is { } group)
        {
            Submit(new SaveClassicGroup(group, delivery), Self);
        }
        else
        {
            Deliver(delivery);
        }
    }

    private void Deliver(ClassicDelivery delivery)
    {
        if (delivery.Reply is not null)
        {
            delivery.ReplyTo.Tell(delivery.Reply);
        }

        foreach (var release in delivery.Released)
        {
            if (_parked.Remove((release.MemberId, release.Join), out var waiting))
            {
                waiting.Tell(release.Reply);
            }
        }
    }

    /// <summary>
    /// A group that does not exist (a read for an unknown name) leaves at once, so asking about many names never
    /// keeps many entities and their timers alive.
    /// </summary>
    private void PassivateIfAbsent()
    {
        if (!State.Exists && !_passivating)
        {
            _passivating = true;
            Context.Parent.Tell(new Passivate(StopEntity.Instance));
        }
    }

    private static string NewMemberId() => "m-" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>Persist the classic group's metadata, then send <paramref name="Delivery"/>'s answers (local only).</summary>
    private sealed record SaveClassicGroup(ClassicGroupSnapshot Group, ClassicDelivery Delivery);

    /// <summary>The answers of one classic-protocol outcome: to the requester, and to parked members.</summary>
    private sealed record ClassicDelivery(IActorRef ReplyTo, object? Reply, System.Collections.Immutable.ImmutableArray<ClassicRelease> Released);

    private sealed class CheckSessions
    {
        public static readonly CheckSessions Instance = new();
    }
}
