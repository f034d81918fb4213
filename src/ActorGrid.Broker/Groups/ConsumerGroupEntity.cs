#nullable enable
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static ActorGrid.Broker.BrokerProtocol;
using Settings = ActorGrid.Broker.BrokerProtocol.Settings;

namespace ActorGrid.Broker.Groups;

/// <summary>
/// One consumer group: membership, assignment and committed offsets, persisted; heartbeats and fetch positions in
/// memory. Commands that change the group and arrive while a write is in flight are written together next (group
/// commit), so frequent commits cost one journal write per batch. A timer removes members whose session timed out.
/// </summary>
internal sealed class ConsumerGroupEntity : ReceivePersistentActor, IWithTimers
{
    private static readonly TimeSpan SessionCheckInterval = TimeSpan.FromMilliseconds(250);
    private readonly string _group;
    private readonly Settings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<(object Command, IActorRef Sender)> _buffer = [];
    private readonly Dictionary<(string MemberId, bool Join), IActorRef> _parked = [];
    private ConsumerGroupState _state = ConsumerGroupState.Empty;
    private bool _writing;
    private bool _stopping;
    private long _eventsSinceSnapshot;

    public ConsumerGroupEntity(string group, Settings settings)
    {
        _group = group;
        _settings = settings;
        PersistenceId = $"broker/group/{group}";

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is GroupSnapshot snapshot)
            {
                _state = ConsumerGroupState.FromSnapshot(snapshot, Now());
            }
        });
        Recover<IGroupEvent>(e => _state = _state.Apply(e, Now()));
        Recover<RecoveryCompleted>(_ => Timers.StartPeriodicTimer("sessions", CheckSessions.Instance, SessionCheckInterval));

        Command<JoinGroup>(command => Enqueue(command));
        Command<LeaveGroup>(command => Enqueue(command));
        Command<CommitOffsets>(command => Enqueue(command));
        Command<CommitClassicOffsets>(command => Enqueue(command));
        Command<JoinClassicGroup>(Classic);
        Command<SyncClassicGroup>(Classic);
        Command<ClassicHeartbeat>(Classic);
        Command<LeaveClassicGroup>(Classic);
        Command<DescribeClassicGroup>(_ => Sender.Tell(_state.DescribeClassic(_group)));
        Command<CheckSessions>(_ =>
        {
            if (!_state.Classic.Members.IsEmpty)
            {
                Classic(CheckSessions.Instance);
            }

            if (_state.ExpiredMembers(Now()).Count > 0)
            {
                Enqueue(CheckSessions.Instance, ActorRefs.Nobody);
            }
        });
        Command<BeginPoll>(command =>
        {
            var (state, reply) = _state.Poll(command, Now());
            _state = state;
            Sender.Tell(reply);
        });
        Command<AdvancePositions>(command =>
        {
            var (state, reply) = _state.Advance(command, Now());
            _state = state;
            Sender.Tell(reply);
        });
        Command<DescribeGroup>(_ => Sender.Tell(_state.Exists
            ? _state.Describe(_group, Now())
            : new BrokerError(BrokerErrorCode.GroupNotFound, $"group '{_group}' has no members and no committed offsets")));
        Command<StopEntity>(_ =>
        {
            _stopping = true;
            StopIfDrained();
        });
        Command<SaveSnapshotSuccess>(success => DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failure => _log.Warning(failure.Cause, "Snapshot of {0} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    /// <inheritdoc />
    public override string PersistenceId { get; }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the group <paramref name="group"/>.</summary>
    public static Props PropsFor(string group, Settings settings) => Props.Create(() => new ConsumerGroupEntity(group, settings));

    /// <inheritdoc />
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        var error = new BrokerError(BrokerErrorCode.Unavailable, "the journal write failed; retry");
        foreach (var (_, sender) in _buffer)
        {
            sender.Tell(error);
        }

        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private void Enqueue(object command, IActorRef? replyTo = null)
    {
        // A heartbeat counts on arrival, not once the command's write is done.
        if (command is CommitOffsets commit)
        {
            _state = _state.Touch(commit.MemberId, Now());
        }
        else if (command is JoinGroup { MemberId: { } memberId })
        {
            _state = _state.Touch(memberId, Now());
        }

        _buffer.Add((command, replyTo ?? Sender));
        if (!_writing)
        {
            Flush();
            StopIfDrained();
        }
    }

    private void Flush()
    {
        if (_buffer.Count == 0)
        {
            return;
        }

        var batch = _buffer.ToList();
        _buffer.Clear();
        var now = Now();
        var provisional = _state;
        var events = new List<IGroupEvent>();
        var replies = new List<(IActorRef Sender, object Reply)>(batch.Count);
        foreach (var (command, sender) in batch)
        {
            var decision = command switch
            {
                JoinGroup join => provisional.Decide(join, NewMemberId()),
                LeaveGroup leave => provisional.Decide(leave),
                CommitOffsets commit => provisional.Decide(commit),
                CommitClassicOffsets commit => provisional.Decide(commit),
                _ => provisional.DecideExpiry(now),
            };
            foreach (var e in decision.Events)
            {
                provisional = provisional.Apply(e, now);
            }

            events.AddRange(decision.Events);
            replies.Add((sender, decision.Reply(provisional)));
        }

        if (events.Count == 0)
        {
            _state = provisional;
            SendReplies(replies);
            return;
        }

        _writing = true;
        var remaining = events.Count;
        PersistAllAsync(events, e =>
        {
            _state = _state.Apply(e, Now());
            if (--remaining > 0)
            {
                return;
            }

            _writing = false;
            SendReplies(replies);
            _eventsSinceSnapshot += events.Count;
            if (_eventsSinceSnapshot >= _settings.SnapshotEvery)
            {
                _eventsSinceSnapshot = 0;
                SaveSnapshot(_state.ToSnapshot());
            }

            Flush();
            StopIfDrained();
        });
    }

    private void StopIfDrained()
    {
        if (_stopping && !_writing && _buffer.Count == 0)
        {
            Context.Stop(Self);
        }
    }

    private static void SendReplies(List<(IActorRef Sender, object Reply)> replies)
    {
        foreach (var (sender, reply) in replies)
        {
            if (!sender.IsNobody())
            {
                sender.Tell(reply);
            }
        }
    }

    private void Classic(object command)
    {
        var newMemberId = NewMemberId();
        var (state, outcome) = _state.DecideClassic(command, newMemberId, Now());
        _state = state;
        (string, bool)? park = command switch
        {
            JoinClassicGroup join => (join.MemberId.Length == 0 ? newMemberId : join.MemberId, true),
            SyncClassicGroup sync => (sync.MemberId, false),
            _ => null,
        };
        if (outcome.Reply is not null)
        {
            Sender.Tell(outcome.Reply);
        }
        else if (park is { } key)
        {
            // A member that asks again while parked replaces its earlier request (that one times out at the client).
            _parked[key] = Sender;
        }

        foreach (var release in outcome.Released)
        {
            if (_parked.Remove((release.MemberId, release.Join), out var waiting))
            {
                waiting.Tell(release.Reply);
            }
        }
    }

    private static string NewMemberId() => "m-" + Guid.NewGuid().ToString("N")[..16];

    private sealed class CheckSessions
    {
        public static readonly CheckSessions Instance = new();
    }
}
