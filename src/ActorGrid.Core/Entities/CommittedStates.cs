#nullable enable
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Akka.Actor;

namespace ActorGrid.Entities;

/// <summary>
/// Lease-fenced local reads: the committed state of the durable entities of one kind that run on this node, readable
/// from any thread without a trip through the shard region and the entity's mailbox. An entity opts in with
/// <c>LocalReads</c> (<see cref="DurableEntity{TState, TCommand, TEvent}"/>); it publishes its state after each durable write and before it
/// acknowledges the write, so a read from here sees every acknowledged write (linearizable, as a read in the mailbox
/// is). A read is served only while the entity is running and may serve — the same check its mailbox reads pass: its
/// node still holds the shard's lease on the local monotonic clock — and never while it recovers, hands off or after
/// it stopped. Anything else (the entity runs elsewhere, is not started, is stopping) answers "not here" and the caller
/// asks the entity as usual.
/// </summary>
/// <typeparam name="TState">The entity's state; it must be immutable (it is read while the entity moves on).</typeparam>
public sealed class CommittedStates<TState>
    where TState : notnull
{
    private static readonly ConditionalWeakTable<ActorSystem, ConcurrentDictionary<string, CommittedStates<TState>>> PerSystem = new();
    private readonly ConcurrentDictionary<string, View> _views = new(StringComparer.Ordinal);

    /// <summary>The committed states of kind <paramref name="kind"/> (e.g. <c>kv.partition</c>) on <paramref name="system"/>.</summary>
    public static CommittedStates<TState> For(ActorSystem system, string kind) =>
        PerSystem.GetValue(system, _ => new(StringComparer.Ordinal)).GetOrAdd(kind, _ => new CommittedStates<TState>());

    /// <summary>
    /// The committed state of <paramref name="persistenceId"/> if it runs on this node and may serve now; counts the
    /// read for the entity (it sees the count through <c>TakeLocalReads</c>, for its load metering).
    /// </summary>
    public bool TryRead(string persistenceId, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TState state)
    {
        if (_views.TryGetValue(persistenceId, out var view) && view.TryRead(out state))
        {
            return true;
        }

        state = default;
        return false;
    }

    internal View Open(string persistenceId, Func<bool> mayServe, TState state)
    {
        var view = new View(mayServe, state);
        _views[persistenceId] = view;
        return view;
    }

    internal void Close(string persistenceId, View view)
    {
        view.Close();
        _views.TryRemove(new KeyValuePair<string, View>(persistenceId, view));
    }

    /// <summary>One entity incarnation's published state.</summary>
    internal sealed class View(Func<bool> mayServe, TState state)
    {
        private object _state = state;
        private volatile bool _open = true;
        private long _reads;

        public void Publish(TState state) => Volatile.Write(ref _state, state);

        public void Close() => _open = false;

        public long TakeReads() => Interlocked.Exchange(ref _reads, 0);

        public bool TryRead([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TState state)
        {
            // The state is read after the checks: it can only be newer than what they vouched for, never older.
            if (_open && mayServe())
            {
                Interlocked.Increment(ref _reads);
                state = (TState)Volatile.Read(ref _state);
                return true;
            }

            state = default;
            return false;
        }
    }
}
