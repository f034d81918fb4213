#nullable enable
using Akka.Actor;

namespace ActorGrid.Entities;

/// <summary>
/// Runs a user's <see cref="IEntityBehavior{TState, TCommand, TEvent}"/> on the grid's one write path
/// (<see cref="DurableEntity{TState, TCommand, TEvent}"/>): commands that arrive while a journal write is in flight
/// are decided against the state they will see and their events go out together in the next write; replies are
/// sent only once the events are durable; a write the journal refuses answers its commands with an
/// <see cref="EntityFailureException"/> (inside <c>Status.Failure</c>) and the entity goes on.
/// </summary>
public class GridEntity<TState, TCommand, TEvent> : DurableEntity<TState, TCommand, TEvent>
    where TState : notnull
    where TCommand : notnull
    where TEvent : notnull
{
    private readonly IEntityBehavior<TState, TCommand, TEvent> _behavior;

    /// <summary>Creates the entity <paramref name="entityId"/> persisted as <c>{persistencePrefix}-{entityId}</c>.</summary>
    public GridEntity(string persistencePrefix, string entityId, IEntityBehavior<TState, TCommand, TEvent> behavior, int snapshotEvery)
        : this(persistencePrefix, entityId, behavior, DurableEntitySettings.Default with { SnapshotEvery = snapshotEvery })
    {
    }

    /// <summary>Creates the entity <paramref name="entityId"/> persisted as <c>{persistencePrefix}-{entityId}</c>.</summary>
    public GridEntity(string persistencePrefix, string entityId, IEntityBehavior<TState, TCommand, TEvent> behavior, DurableEntitySettings settings)
        : base($"{persistencePrefix}-{entityId}", behavior.Initial(entityId), settings)
    {
        _behavior = behavior;
        EntityKind = persistencePrefix;
    }

    /// <inheritdoc />
    protected override string EntityKind { get; }

    /// <inheritdoc />
    protected override void HandleCommand(object message)
    {
        if (message is TCommand command)
        {
            Submit(command, Sender);
        }
        else
        {
            Unhandled(message);
        }
    }

    /// <inheritdoc />
    protected override Decision<TState, TEvent> Decide(TState state, TCommand command) => _behavior.Decide(state, command);

    /// <inheritdoc />
    protected override TState Apply(TState state, TEvent @event) => _behavior.Apply(state, @event);

    /// <inheritdoc />
    protected override object ErrorReply(TCommand command, EntityFailure failure, string detail) =>
        new Status.Failure(new EntityFailureException(PersistenceId, failure, detail));

    /// <inheritdoc />
    protected override object? ToSnapshot(TState state) =>
        _behavior is IEntitySnapshots<TState> snapshots ? snapshots.ToSnapshot(state) : state;

    /// <inheritdoc />
    protected override TState FromSnapshot(object snapshot) =>
        _behavior is IEntitySnapshots<TState> snapshots ? snapshots.FromSnapshot(snapshot) : (TState)snapshot;
}
