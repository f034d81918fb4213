#nullable enable
using ActorGrid.Observability;
using Akka.Actor;
using Akka.Persistence;

namespace ActorGrid.Entities;

/// <summary>
/// Runs an <see cref="IEntityBehavior{TState, TCommand, TEvent}"/> as a persistent actor with group commit: while
/// one journal write is in flight, arriving commands are decided against the state they will see and their events
/// go out together in the next write. Replies are sent only after the events are durable. Snapshots every
/// <c>snapshotEvery</c> events bound recovery time.
/// </summary>
public class GridEntity<TState, TCommand, TEvent> : UntypedPersistentActor
    where TState : notnull
    where TCommand : notnull
    where TEvent : notnull
{
    private readonly IEntityBehavior<TState, TCommand, TEvent> _behavior;
    private readonly int _snapshotEvery;
    private readonly string _entityKind;
    private readonly List<(TCommand Command, IActorRef Sender)> _waiting = [];
    private TState _state;
    private bool _writing;
    private long _eventsSinceSnapshot;

    /// <summary>Creates the entity <paramref name="entityId"/> persisted as <c>{persistencePrefix}-{entityId}</c>.</summary>
    public GridEntity(string persistencePrefix, string entityId, IEntityBehavior<TState, TCommand, TEvent> behavior, int snapshotEvery)
    {
        PersistenceId = $"{persistencePrefix}-{entityId}";
        _entityKind = persistencePrefix;
        _behavior = behavior;
        _snapshotEvery = snapshotEvery;
        _state = behavior.Initial(entityId);
    }

    /// <inheritdoc />
    public override string PersistenceId { get; }

    /// <summary>The current (durable) state.</summary>
    protected TState State => _state;

    /// <inheritdoc />
    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: TState snapshot }:
                _state = snapshot;
                break;
            case TEvent e:
                _state = _behavior.Apply(_state, e);
                _eventsSinceSnapshot++;
                break;
        }
    }

    /// <inheritdoc />
    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case TracedMessage traced:
                traced.Handle(Context, _entityKind, PersistenceId, OnCommand);
                break;
            case TCommand command:
                _waiting.Add((command, Sender));
                if (!_writing)
                {
                    WriteBatch();
                }

                break;
            case SaveSnapshotSuccess success:
                DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
                break;
            case SaveSnapshotFailure or DeleteSnapshotsSuccess or DeleteSnapshotsFailure:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void WriteBatch()
    {
        var batch = _waiting.ToList();
        _waiting.Clear();
        var speculative = _state;
        var events = new List<TEvent>();
        var replies = new List<(IActorRef Sender, Func<TState, object?> Reply, TState After)>();
        foreach (var (command, sender) in batch)
        {
            var decision = _behavior.Decide(speculative, command);
            foreach (var e in decision.Events)
            {
                speculative = _behavior.Apply(speculative, e);
                events.Add(e);
            }

            replies.Add((sender, decision.Reply, speculative));
        }

        if (events.Count == 0)
        {
            SendReplies(replies);
            return;
        }

        _writing = true;
        var remaining = events.Count;
        var write = NodeTelemetry.For(Context.System).Journal.Begin(_entityKind, PersistenceId, events.Count);
        PersistAll(events, e =>
        {
            _state = _behavior.Apply(_state, e);
            _eventsSinceSnapshot++;
            if (--remaining > 0)
            {
                return;
            }

            write.Complete();
            SendReplies(replies);
            if (_eventsSinceSnapshot >= _snapshotEvery)
            {
                _eventsSinceSnapshot = 0;
                SaveSnapshot(_state);
            }

            _writing = false;
            if (_waiting.Count > 0)
            {
                WriteBatch();
            }
        });
    }

    private static void SendReplies(List<(IActorRef Sender, Func<TState, object?> Reply, TState After)> replies)
    {
        foreach (var (sender, reply, after) in replies)
        {
            if (reply(after) is { } message)
            {
                sender.Tell(message);
            }
        }
    }
}
