#nullable enable
namespace ActorGrid.Entities;

/// <summary>
/// The pure logic of an event-sourced grid entity: what a command decides (events to persist and a reply) and how
/// an event changes the state. No actor, no I/O, so it is unit-tested with plain calls; <see cref="GridEntity{TState, TCommand, TEvent}"/>
/// runs it as a sharded, persistent, group-committing actor.
/// </summary>
/// <typeparam name="TState">Immutable state. It is also the snapshot type (register it in the manifest table) unless the
/// behavior implements <see cref="IEntitySnapshots{TState}"/>.</typeparam>
/// <typeparam name="TCommand">The commands the entity accepts.</typeparam>
/// <typeparam name="TEvent">The events it persists.</typeparam>
public interface IEntityBehavior<TState, in TCommand, TEvent>
{
    /// <summary>The state of an entity that has no events yet.</summary>
    TState Initial(string entityId);

    /// <summary>Decides what <paramref name="command"/> does in <paramref name="state"/>.</summary>
    Decision<TState, TEvent> Decide(TState state, TCommand command);

    /// <summary>The state after <paramref name="event"/>.</summary>
    TState Apply(TState state, TEvent @event);
}

/// <summary>
/// Implemented by a behavior whose snapshots are their own versioned DTO rather than the state type, so the state
/// can change shape without breaking old snapshots.
/// </summary>
public interface IEntitySnapshots<TState>
{
    /// <summary>The snapshot to persist for <paramref name="state"/> (a type registered in the manifest table).</summary>
    object ToSnapshot(TState state);

    /// <summary>The state a persisted snapshot holds.</summary>
    TState FromSnapshot(object snapshot);
}

/// <summary>
/// The outcome of a command, for every durable entity (<see cref="DurableEntity{TState, TCommand, TEvent}"/>):
/// events to persist (none for queries and refusals) and the reply, built from the state after the events and sent
/// once they are durable.
/// </summary>
/// <param name="Events">Persisted, in order, before the reply is sent.</param>
/// <param name="Reply">Builds the reply from the state after the events (null: no reply).</param>
public sealed record Decision<TState, TEvent>(IReadOnlyList<TEvent> Events, Func<TState, object?> Reply)
{
    /// <summary>Persist <paramref name="events"/>, then reply with <paramref name="reply"/> of the new state.</summary>
    public static Decision<TState, TEvent> Persist(IReadOnlyList<TEvent> events, Func<TState, object?> reply) => new(events, reply);

    /// <summary>Persist one event, then reply.</summary>
    public static Decision<TState, TEvent> Persist(TEvent @event, Func<TState, object?> reply) => new([@event], reply);

    /// <summary>Change nothing and reply (queries, rejections).</summary>
    public static Decision<TState, TEvent> Respond(object? reply) => new([], _ => reply);
}
