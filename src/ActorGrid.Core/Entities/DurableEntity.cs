#nullable enable
using System.Diagnostics;
using ActorGrid.Configuration;
using ActorGrid.Observability;
using ActorGrid.Coordination;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace ActorGrid.Entities;

/// <summary>
/// The one write path of every durable grid entity, built-in roles and user entities alike.
/// <list type="bullet">
/// <item>Group commit: commands handed to <see cref="Submit"/> queue up; when no journal write is in flight they are
/// decided together against the durable state (each one seeing the events of those before it) and their events go
/// out in one <c>PersistAllAsync</c>. Commands that arrive while a write is in flight go into the next one. One write
/// is in flight at a time, so every decision is made on durable state.</item>
/// <item>Replies are sent once the write is durable; <see cref="State"/> only ever holds durable state, so reads
/// answered from it see every acknowledged write and nothing else.</item>
/// <item>Failures: a rejected write (the journal refused it, nothing stored) answers each of its commands with
/// <see cref="ErrorReply"/> and the entity goes on from its unchanged state; a failed write answers every waiting
/// command and the entity stops, to recover from the journal when next addressed.</item>
/// <item>Snapshots by policy (<see cref="DurableEntitySettings"/>), as a versioned DTO of the subclass's choosing.</item>
/// <item><see cref="StopWhenDrained"/> (hand-off): finishes the write in flight and those queued, lets the snapshot in
/// flight land, then stops.</item>
/// <item><see cref="PurgeAllData"/> (a deleted topic or job): once no write or snapshot is in flight, deletes every event
/// and snapshot of the entity, then <see cref="OnPurged"/>.</item>
/// </list>
/// </summary>
/// <typeparam name="TState">The entity's state (immutable, or mutable with <see cref="DecideBatch"/> overridden).</typeparam>
/// <typeparam name="TCommand">Commands that write.</typeparam>
/// <typeparam name="TEvent">Events it journals.</typeparam>
public abstract class DurableEntity<TState, TCommand, TEvent> : UntypedPersistentActor
    where TState : notnull
    where TCommand : notnull
    where TEvent : notnull
{
    private readonly List<TCommand> _pendingCommands = [];
    private readonly List<IActorRef> _pendingReplyTo = [];
    private readonly List<ActivityContext> _pendingTraces = [];
    private Write? _inFlight;
    private bool _flushQueued;
    private bool _stopping;
    private bool _snapshotInFlight;
    private long _eventsSinceSnapshot;
    private long _lastSnapshotTimestamp;
    private readonly OwnershipFence _fence;
    private TState _state;
    private CommittedStates<TState>.View? _localView;
    private Purge? _purge;

    /// <summary>Creates the entity persisted as <paramref name="persistenceId"/>, starting from <paramref name="initial"/>.</summary>
    protected DurableEntity(string persistenceId, TState initial, DurableEntitySettings? settings = null)
    {
        PersistenceId = persistenceId;
        _state = initial;
        Settings = settings ?? DurableEntitySettings.Default;
        _lastSnapshotTimestamp = Settings.Time.GetTimestamp();
        JournalPluginId = ActorGridHocon.JournalPluginId;
        SnapshotPluginId = ActorGridHocon.SnapshotPluginId;
        _fence = OwnershipFence.For(Context);
    }

    /// <inheritdoc />
    public override string PersistenceId { get; }

    /// <summary>The settings this entity runs with.</summary>
    protected DurableEntitySettings Settings { get; }

    /// <summary>The clock (from the settings).</summary>
    protected TimeProvider Time => Settings.Time;

    /// <summary>Now, in Unix milliseconds.</summary>
    protected long NowUnixMs => Settings.Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// The durable state. Subclasses may replace it for changes that are deliberately not journaled (heartbeats,
    /// read positions); such changes must not be anything a reply promises is durable.
    /// </summary>
    protected TState State
    {
        get => _state;
        set
        {
            _state = value;
            _localView?.Publish(value);
        }
    }

    /// <summary>
    /// Where this entity publishes its committed state for lease-fenced local reads (<see cref="CommittedStates{TState}"/>),
    /// or null (the default) to serve reads through its mailbox only. The state must then be immutable and
    /// <see cref="MayServe"/> safe to call from any thread.
    /// </summary>
    protected virtual CommittedStates<TState>? LocalReads => null;

    /// <summary>Reads served from <see cref="LocalReads"/> since the last call (for load metering).</summary>
    protected long TakeLocalReads() => _localView?.TakeReads() ?? 0;

    /// <summary>The entity kind its journal writes and spans are named by (<c>kv.partition</c>, ...).</summary>
    protected virtual string EntityKind => GetType().Name;

    /// <summary>Sequence number of the last durable event.</summary>
    protected long CommittedSequenceNr { get; private set; }

    /// <summary>Journal writes made by this incarnation.</summary>
    protected long JournalWrites { get; private set; }

    /// <summary>Events written by this incarnation.</summary>
    protected long EventsWritten { get; private set; }

    /// <summary>Sequence number of the snapshot recovery started from (0: none).</summary>
    protected long RecoveredFromSnapshotAt { get; private set; }

    /// <summary>Sequence number of the newest snapshot known to be saved: the one recovered from, or a later one this incarnation saved (0: none).</summary>
    protected long SavedSnapshotAt { get; private set; }

    // ---- What a subclass implements ------------------------------------------------------------------------------

    /// <summary>The state after <paramref name="event"/> (recovery and commit).</summary>
    protected abstract TState Apply(TState state, TEvent @event);

    /// <summary>Handles every message that is not the base's own (reads, <see cref="Submit"/> of writes, timers).</summary>
    protected abstract void HandleCommand(object message);

    /// <summary>The error answer to <paramref name="command"/> when it cannot get its decision's reply.</summary>
    protected abstract object ErrorReply(TCommand command, EntityFailure failure, string detail);

    /// <summary>
    /// Decides one command against <paramref name="state"/> (which holds the events of the commands decided before
    /// it in the same write). Used by the default <see cref="DecideBatch"/>.
    /// </summary>
    protected virtual Decision<TState, TEvent> Decide(TState state, TCommand command) =>
        throw new NotSupportedException($"{GetType().Name} must override {nameof(Decide)} or {nameof(DecideBatch)}");

    /// <summary>
    /// Decides the next journal write from the queued commands: how many of them it takes (at least one), the events,
    /// and one reply per taken command (null: none). The default decides them one by one with <see cref="Decide"/>,
    /// folding each one's events into a working copy of the state (so <typeparamref name="TState"/> must be immutable
    /// for it), within <see cref="DurableEntitySettings.MaxBatchEvents"/> and <see cref="DurableEntitySettings.MaxBatchBytes"/>.
    /// Never change <see cref="State"/> here: it changes when the write is durable.
    /// </summary>
    protected virtual BatchPlan DecideBatch(TState state, IReadOnlyList<TCommand> commands)
    {
        var working = state;
        var events = new List<TEvent>();
        var replies = new List<object?>(Math.Min(commands.Count, 256));
        var bytes = 0L;
        var taken = 0;
        foreach (var command in commands)
        {
            if (events.Count >= Settings.MaxBatchEvents || (events.Count > 0 && bytes >= Settings.MaxBatchBytes))
            {
                break;
            }

            var decision = Decide(working, command);
            foreach (var e in decision.Events)
            {
                working = Apply(working, e);
                events.Add(e);
                bytes += SizeOf(e);
            }

            replies.Add(decision.Reply(working));
            taken++;
        }

        return new BatchPlan(taken, events, replies);
    }

    /// <summary>The weight of an event against <see cref="DurableEntitySettings.MaxBatchBytes"/> (default 0).</summary>
    protected virtual long SizeOf(TEvent @event) => 0;

    /// <summary>The snapshot DTO to save for <paramref name="state"/> (null: none). Never the state type itself.</summary>
    protected virtual object? ToSnapshot(TState state) => null;

    /// <summary>The state a recovered snapshot holds.</summary>
    protected virtual TState FromSnapshot(object snapshot) =>
        throw new NotSupportedException($"{GetType().Name} recovered a snapshot ({snapshot.GetType().Name}) but does not override {nameof(FromSnapshot)}");

    /// <summary>Called once recovery is complete, before the first command.</summary>
    protected virtual void OnRecoveryCompleted()
    {
    }

    /// <summary>
    /// Called after a write became durable, its events applied and its replies sent (publish to followers, wake
    /// waiters). <paramref name="firstSequenceNr"/> is the sequence number of <paramref name="events"/>[0].
    /// </summary>
    protected virtual void OnCommitted(IReadOnlyList<TEvent> events, long firstSequenceNr)
    {
    }

    /// <summary>Called after a write was rejected and its commands answered with errors.</summary>
    protected virtual void OnWriteRejected(Exception cause)
    {
    }

    /// <summary>Called when a snapshot was saved (after older snapshots, and events when configured, are deleted).</summary>
    protected virtual void OnSnapshotSaved(SnapshotMetadata metadata)
    {
    }

    /// <summary>Work besides writes that a hand-off must wait for (for example journal reads in flight).</summary>
    protected virtual bool HasUnfinishedWork => false;

    /// <summary>Called once <see cref="PurgeAllData"/> deleted every event and snapshot (the entity usually passivates then).</summary>
    protected virtual void OnPurged()
    {
    }

    /// <summary>
    /// Called when deleting the events or the snapshots of <see cref="PurgeAllData"/> failed (<paramref name="failure"/>:
    /// the journal's or snapshot store's answer). The purge is over; what is left recovers, and a new
    /// <see cref="PurgeAllData"/> may try again (deleting is idempotent).
    /// </summary>
    protected virtual void OnPurgeFailed(object failure)
    {
    }

    /// <summary>Called just before the entity stops after <see cref="StopWhenDrained"/>.</summary>
    protected virtual void OnDrained()
    {
    }

    /// <summary>
    /// Whether this incarnation may still serve: checked before a write is journaled, before it is acknowledged and,
    /// through <see cref="TryServe"/>, before a read is answered. Defaults to: this node still holds the entity's
    /// shard lease (<see cref="OwnershipFence"/>, a monotonic clock compare, no I/O) and
    /// <see cref="DurableEntitySettings.MayServe"/>.
    /// </summary>
    protected virtual bool MayServe() => _fence.IsValid && (Settings.MayServe?.Invoke() ?? true);

    /// <summary>The one place a journal write completes (metrics): defaults to <see cref="DurableEntitySettings.OnJournalWrite"/>.</summary>
    protected virtual void OnJournalWriteCompleted(in JournalWriteCompleted write) => Settings.OnJournalWrite?.Invoke(write);

    // ---- What a subclass calls -----------------------------------------------------------------------------------

    /// <summary>Queues a write command; its reply goes to <paramref name="replyTo"/> once its events are durable.</summary>
    protected void Submit(TCommand command, IActorRef replyTo)
    {
        _pendingCommands.Add(command);
        _pendingReplyTo.Add(replyTo);
        _pendingTraces.Add(Activity.Current?.Context ?? default);
        if (_inFlight is null && !_flushQueued)
        {
            // Decided once the commands already in the mailbox have joined the queue, so they share the write.
            _flushQueued = true;
            Self.Tell(FlushPending.Instance);
        }
    }

    /// <summary>
    /// Answers a read with <paramref name="reply"/> if this incarnation may serve (<see cref="MayServe"/>), else with
    /// <see cref="OwnershipLapsed"/> (a 503 at the HTTP doors). Returns whether it served.
    /// </summary>
    protected bool TryServe(IActorRef replyTo, object reply)
    {
        if (MayServe())
        {
            replyTo.Tell(reply);
            return true;
        }

        replyTo.Tell(new OwnershipLapsed(PersistenceId));
        return false;
    }

    /// <summary>Answers every queued command (not the write in flight) with <see cref="ErrorReply"/> and drops them.</summary>
    protected void FailQueued(EntityFailure failure, string detail)
    {
        Answer(_pendingCommands, _pendingReplyTo, failure, detail);
        ClearPending();
    }

    /// <summary>
    /// Stops once the write in flight and the queued ones are answered, the snapshot in flight has landed (so the next
    /// incarnation recovers from it) and <see cref="HasUnfinishedWork"/> is false. No new snapshot starts meanwhile.
    /// </summary>
    protected void StopWhenDrained()
    {
        _stopping = true;
        CloseLocalReads();
        StopIfDrained();
    }

    /// <summary>Re-checks a pending <see cref="StopWhenDrained"/> (call when unfinished work completes).</summary>
    protected void StopIfDrained()
    {
        if (_stopping && _inFlight is null && !_snapshotInFlight && _pendingCommands.Count == 0 && !HasUnfinishedWork)
        {
            OnDrained();
            Context.Stop(Self);
        }
    }

    /// <summary>
    /// Deletes every event and snapshot of this entity: from now on no write is journaled (queued and new commands are
    /// refused) and no snapshot is taken; once the write and the snapshot in flight have landed (one landing after the
    /// deletion would bring data back), the events up to the last sequence number and every snapshot are deleted, then
    /// <see cref="OnPurged"/> (or <see cref="OnPurgeFailed"/>). Calling it again while a purge runs changes nothing.
    /// </summary>
    protected void PurgeAllData()
    {
        _purge ??= new Purge();
        TryStartPurge();
    }

    /// <summary>Whether <see cref="PurgeAllData"/> was asked and has not failed.</summary>
    protected bool IsPurging => _purge is not null;

    /// <summary>Saves a snapshot now unless a write or another snapshot is in flight (the policy calls this too).</summary>
    protected void SaveSnapshotNow()
    {
        if (_inFlight is not null || _snapshotInFlight || _purge is not null || ToSnapshot(State) is not { } snapshot)
        {
            return;
        }

        // Nothing is in flight, so the snapshot's sequence number is exactly the state it holds.
        _snapshotInFlight = true;
        _eventsSinceSnapshot = 0;
        _lastSnapshotTimestamp = Time.GetTimestamp();
        SaveSnapshot(snapshot);
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        CloseLocalReads();
        base.PostStop();
    }

    private void CloseLocalReads()
    {
        if (_localView is { } view)
        {
            LocalReads!.Close(PersistenceId, view);
            _localView = null;
        }
    }

    /// <summary>Events written since the last snapshot.</summary>
    protected long EventsSinceSnapshot => _eventsSinceSnapshot;

    /// <summary>Whether a journal write or a snapshot is in flight (work that must land before the entity's data is deleted).</summary>
    protected bool IsWritingOrSnapshotting => _inFlight is not null || _snapshotInFlight;

    /// <summary>
    /// Called with every <c>DeleteMessagesSuccess/Failure</c> and <c>DeleteSnapshotsSuccess/Failure</c> the entity
    /// receives: the base's own cleanup after a snapshot and the subclass's deletions alike.
    /// </summary>
    protected virtual void OnDeletionCompleted(object result)
    {
    }

    // ---- The machinery -------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected sealed override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer offer:
                State = FromSnapshot(offer.Snapshot);
                RecoveredFromSnapshotAt = offer.Metadata.SequenceNr;
                SavedSnapshotAt = offer.Metadata.SequenceNr;
                break;
            case RecoveryCompleted:
                CommittedSequenceNr = LastSequenceNr;
                _localView = LocalReads?.Open(PersistenceId, MayServe, State);
                OnRecoveryCompleted();
                break;
            case TEvent e:
                State = Apply(State, e);
                _eventsSinceSnapshot++;
                break;
        }
    }

    /// <inheritdoc />
    protected sealed override void OnCommand(object message)
    {
        switch (message)
        {
            case TracedMessage traced:
                // A front door's request: handled in a span that continues its trace (the journal write is its child).
                traced.Handle(Context, EntityKind, PersistenceId, OnCommand);
                break;
            case FlushPending:
                _flushQueued = false;
                Flush();
                StopIfDrained();
                break;
            case SaveSnapshotSuccess saved:
                _snapshotInFlight = false;
                SavedSnapshotAt = saved.Metadata.SequenceNr;
                // Recovery now starts from this snapshot: older snapshots (and, when asked, the events it covers) are dead weight.
                DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
                if (Settings.DeleteEventsOnSnapshot)
                {
                    DeleteMessages(saved.Metadata.SequenceNr);
                }

                OnSnapshotSaved(saved.Metadata);
                TryStartPurge();
                // A snapshot that fell due while this one was in flight is not left waiting for the next write.
                SaveSnapshotIfDue();
                StopIfDrained();
                break;
            case SaveSnapshotFailure failed:
                _snapshotInFlight = false;
                Log.Warning(failed.Cause, "{PersistenceId}: snapshot at {SequenceNr} failed; recovery replays more events", PersistenceId, failed.Metadata.SequenceNr);
                TryStartPurge();
                StopIfDrained();
                break;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess:
                if (!TrackPurge(message))
                {
                    OnDeletionCompleted(message);
                }

                break;
            case DeleteMessagesFailure or DeleteSnapshotsFailure:
                Log.Warning("{PersistenceId}: deleting events or snapshots failed: {Failure}", PersistenceId, message);
                if (!TrackPurge(message))
                {
                    OnDeletionCompleted(message);
                }

                break;
            default:
                HandleCommand(message);
                break;
        }
    }

    /// <inheritdoc />
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // Called once per event of the refused atomic write; nothing of it is stored.
        base.OnPersistRejected(cause, @event, sequenceNr);
        if (_inFlight is { } write)
        {
            write.Rejection ??= cause;
            if (--write.Remaining == 0)
            {
                Rejected(write);
            }
        }
    }

    /// <inheritdoc />
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // The entity stops after this (Akka's rule): answer everything that waits, the journal tells what is durable.
        if (_inFlight is { } write)
        {
            _inFlight = null;
            Report(write, JournalWriteOutcome.Failed);
            var detail = $"the journal write failed ({cause.GetType().Name}); its outcome is unknown, retry";
            Answer(write.Commands, write.ReplyTo, EntityFailure.WriteFailed, detail);
        }

        FailQueued(EntityFailure.WriteFailed, "the journal failed; retry");
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    private void Flush()
    {
        while (_inFlight is null && _pendingCommands.Count > 0)
        {
            if (!MayServe())
            {
                FailQueued(EntityFailure.NotServing, "this node may no longer serve the entity; retry");
                return;
            }

            if (_purge is not null)
            {
                FailQueued(EntityFailure.NotServing, "the entity's data is being deleted");
                return;
            }

            var plan = DecideBatch(State, _pendingCommands);
            var taken = Math.Clamp(plan.Taken, 1, _pendingCommands.Count);
            var commands = _pendingCommands.GetRange(0, taken);
            var replyTo = _pendingReplyTo.GetRange(0, taken);
            var traces = _pendingTraces.GetRange(0, taken);
            _pendingCommands.RemoveRange(0, taken);
            _pendingReplyTo.RemoveRange(0, taken);
            _pendingTraces.RemoveRange(0, taken);
            if (plan.Events.Count == 0)
            {
                // Only refusals and answers, decided against durable state: nothing to wait for.
                SendReplies(replyTo, plan.Replies);
                continue;
            }

            var journal = NodeTelemetry.For(Context.System).Journal.Begin(EntityKind, PersistenceId, plan.Events.Count, traces);
            var write = new Write(commands, replyTo, plan.Events, plan.Replies, Time.GetTimestamp(), journal);
            _inFlight = write;
            PersistAllAsync(plan.Events, _ =>
            {
                if (ReferenceEquals(_inFlight, write) && --write.Remaining == 0)
                {
                    Committed(write);
                }
            });
        }
    }

    private void Committed(Write write)
    {
        _inFlight = null;
        foreach (var e in write.Events)
        {
            State = Apply(State, e);
        }

        // Nothing else is in flight, so the last confirmed sequence number is this write's last event (rejected
        // writes consume sequence numbers too, so counting events alone could drift).
        CommittedSequenceNr = LastSequenceNr;
        JournalWrites++;
        EventsWritten += write.Events.Count;
        _eventsSinceSnapshot += write.Events.Count;
        Report(write, JournalWriteOutcome.Persisted);

        if (!MayServe())
        {
            // Durable, but this incarnation lost the right to say so: the writers retry against the new owner.
            Answer(write.Commands, write.ReplyTo, EntityFailure.NotServing, "this node may no longer serve the entity; retry");
            Context.Stop(Self);
            return;
        }

        SendReplies(write.ReplyTo, write.Replies);
        OnCommitted(write.Events, CommittedSequenceNr - write.Events.Count + 1);

        SaveSnapshotIfDue();
        ContinueAfterWrite();
    }

    private void SaveSnapshotIfDue()
    {
        if (!_stopping && Settings.SnapshotEvery > 0 && _eventsSinceSnapshot >= Settings.SnapshotEvery &&
            Time.GetElapsedTime(_lastSnapshotTimestamp) >= Settings.MinSnapshotInterval)
        {
            SaveSnapshotNow();
        }
    }

    private void Rejected(Write write)
    {
        _inFlight = null;
        Report(write, JournalWriteOutcome.Rejected);
        Log.Warning(write.Rejection, "{PersistenceId}: the journal rejected a write of {Events} events; {Commands} commands answered with an error",
            PersistenceId, write.Events.Count, write.Commands.Count);
        Answer(write.Commands, write.ReplyTo, EntityFailure.WriteRejected, "the journal rejected the write: " + write.Rejection!.Message);
        OnWriteRejected(write.Rejection);
        ContinueAfterWrite();
    }

    private void ContinueAfterWrite()
    {
        // What arrived during the write goes out next; via the mailbox so that commands already queued there join.
        if (_pendingCommands.Count > 0 && !_flushQueued)
        {
            _flushQueued = true;
            Self.Tell(FlushPending.Instance);
        }

        TryStartPurge();
        StopIfDrained();
    }

    private void TryStartPurge()
    {
        if (_purge is not { Started: false } purge || _inFlight is not null || _snapshotInFlight)
        {
            return;
        }

        purge.Started = true;
        purge.ToSequenceNr = LastSequenceNr;
        purge.MessagesDeleted = LastSequenceNr == 0;
        if (LastSequenceNr > 0)
        {
            DeleteMessages(LastSequenceNr);
        }

        DeleteSnapshots(SnapshotSelectionCriteria.Latest);
    }

    /// <summary>Whether <paramref name="result"/> answers the purge's own deletions (and takes it one step on).</summary>
    private bool TrackPurge(object result)
    {
        if (_purge is not { Started: true } purge)
        {
            return false;
        }

        switch (result)
        {
            case DeleteMessagesSuccess deleted when deleted.ToSequenceNr >= purge.ToSequenceNr:
                purge.MessagesDeleted = true;
                break;
            case DeleteSnapshotsSuccess { Criteria.MaxSequenceNr: long.MaxValue }:
                purge.SnapshotsDeleted = true;
                break;
            case DeleteMessagesFailure failed when failed.ToSequenceNr >= purge.ToSequenceNr:
            case DeleteSnapshotsFailure { Criteria.MaxSequenceNr: long.MaxValue }:
                _purge = null;
                OnPurgeFailed(result);
                return true;
            default:
                return false;
        }

        if (purge is { MessagesDeleted: true, SnapshotsDeleted: true, Done: false })
        {
            purge.Done = true;
            OnPurged();
        }

        return true;
    }

    private void Report(Write write, JournalWriteOutcome outcome)
    {
        write.Journal.Complete(outcome);
        OnJournalWriteCompleted(new JournalWriteCompleted(PersistenceId, write.Events.Count, write.Commands.Count, Time.GetElapsedTime(write.StartedAt), outcome));
    }

    private void ClearPending()
    {
        _pendingCommands.Clear();
        _pendingReplyTo.Clear();
        _pendingTraces.Clear();
    }

    private void Answer(IReadOnlyList<TCommand> commands, IReadOnlyList<IActorRef> replyTo, EntityFailure failure, string detail)
    {
        for (var i = 0; i < commands.Count; i++)
        {
            if (!replyTo[i].IsNobody())
            {
                replyTo[i].Tell(ErrorReply(commands[i], failure, detail));
            }
        }
    }

    private static void SendReplies(IReadOnlyList<IActorRef> replyTo, IReadOnlyList<object?> replies)
    {
        for (var i = 0; i < replyTo.Count; i++)
        {
            if (replies[i] is { } reply && !replyTo[i].IsNobody())
            {
                replyTo[i].Tell(reply);
            }
        }
    }

    /// <summary>The next journal write: commands taken from the queue (at least one), their events and replies.</summary>
    /// <param name="Taken">How many queued commands, from the front, the write answers.</param>
    /// <param name="Events">Events to journal in one atomic write (none: reply at once).</param>
    /// <param name="Replies">One reply per taken command (null: none), sent once the events are durable.</param>
    protected readonly record struct BatchPlan(int Taken, IReadOnlyList<TEvent> Events, IReadOnlyList<object?> Replies);

    private sealed class Write(List<TCommand> commands, List<IActorRef> replyTo, IReadOnlyList<TEvent> events, IReadOnlyList<object?> replies, long startedAt, JournalWrite journal)
    {
        public JournalWrite Journal { get; } = journal;

        public List<TCommand> Commands { get; } = commands;

        public List<IActorRef> ReplyTo { get; } = replyTo;

        public IReadOnlyList<TEvent> Events { get; } = events;

        public IReadOnlyList<object?> Replies { get; } = replies;

        public long StartedAt { get; } = startedAt;

        public int Remaining { get; set; } = events.Count;

        public Exception? Rejection { get; set; }
    }

    private sealed class Purge
    {
        public bool Started { get; set; }

        public long ToSequenceNr { get; set; }

        public bool MessagesDeleted { get; set; }

        public bool SnapshotsDeleted { get; set; }

        public bool Done { get; set; }
    }

    private sealed class FlushPending
    {
        public static readonly FlushPending Instance = new();
    }
}
