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
            case CheckSessions when !State.Exists && !IsWriting:
                // A group that does not exist (asked about, or sent a refused command) leaves at once: asking about
                // many names never keeps many entities and their timers alive. Queued commands drain first.
                if (!_passivating)
                {
                    _passivating = true;
                    Context.Parent.Tell(new Passivate(StopEntity.Instance));
                }

                break;
            case CheckSessions:
                if (State.ExpiredMembers(NowUnixMs).Count > 0)
                {
                    Submit(CheckSessions.Instance, ActorRefs.Nobody);
                }

                break;
            case BeginPoll poll:
                var (polled, pollReply) = State.Poll(poll, NowUnixMs);
                State = polled;
                Sender.Tell(pollReply);
                break;
            case AdvancePositions advance:
                var (advanced, advanceReply) = State.Advance(advance, NowUnixMs);
                State = advanced;
                Sender.Tell(advanceReply);
                break;
            case DescribeGroup:
                TryServe(Sender, State.Exists
                    ? State.Describe(_group, NowUnixMs)
                    : new BrokerError(BrokerErrorCode.GroupNotFound, $"group '{_group}' has no members and no committed offsets"));
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
        _ => state.DecideExpiry(NowUnixMs),
    };

    /// <inheritdoc />
    protected override ConsumerGroupState Apply(ConsumerGroupState state, IGroupEvent @event) => state.Apply(@event, NowUnixMs);

    /// <inheritdoc />
    protected override object ErrorReply(object command, EntityFailure failure, string detail) =>
        new BrokerError(BrokerErrorCode.Unavailable, detail);

    /// <inheritdoc />
    protected override object? ToSnapshot(ConsumerGroupState state) => state.ToSnapshot();

    /// <inheritdoc />
    protected override ConsumerGroupState FromSnapshot(object snapshot) => ConsumerGroupState.FromSnapshot((GroupSnapshot)snapshot, NowUnixMs);

    /// <inheritdoc />
    protected override void OnRecoveryCompleted() =>
        Timers.StartPeriodicTimer("sessions", CheckSessions.Instance, SessionCheckInterval);

    private static string NewMemberId() => "m-" + Guid.NewGuid().ToString("N")[..16];

    private sealed class CheckSessions
    {
        public static readonly CheckSessions Instance = new();
    }
}
