#nullable enable
namespace ActorGrid.Entities;

/// <summary>How a <see cref="DurableEntity{TState, TCommand, TEvent}"/> writes, snapshots and tells time.</summary>
public sealed record DurableEntitySettings
{
    /// <summary>The defaults: a snapshot every 1000 events, batches of up to 10 000 events, the system clock.</summary>
    public static readonly DurableEntitySettings Default = new();

    /// <summary>Take a snapshot once this many events were written since the last one (0: never).</summary>
    public int SnapshotEvery { get; init; } = 1000;

    /// <summary>
    /// At most one snapshot per this interval, whatever <see cref="SnapshotEvery"/> says: on SQLite a snapshot write
    /// holds the file's one write lock, so at high rates snapshots would compete with the log itself.
    /// </summary>
    public TimeSpan MinSnapshotInterval { get; init; } = TimeSpan.Zero;

    /// <summary>After a snapshot is saved, delete the events it covers (recovery never reads them again).</summary>
    public bool DeleteEventsOnSnapshot { get; init; }

    /// <summary>Stop adding commands to a journal write once it holds this many events.</summary>
    public int MaxBatchEvents { get; init; } = 10_000;

    /// <summary>Stop adding commands to a journal write once its events weigh this much (see <c>SizeOf</c>).</summary>
    public long MaxBatchBytes { get; init; } = long.MaxValue;

    /// <summary>The clock every decision reads (tests pass a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Whether this incarnation may still serve: asked before a write goes to the journal, before it is
    /// acknowledged and before a read is answered. Null: always. Fencing plugs its lease check in here.
    /// </summary>
    public Func<bool>? MayServe { get; init; }

    /// <summary>Called once per journal write when it completed (metrics plug in here).</summary>
    public Action<JournalWriteCompleted>? OnJournalWrite { get; init; }
}

/// <summary>One journal write of an entity, once it completed.</summary>
/// <param name="PersistenceId">The entity's journal id.</param>
/// <param name="Events">Events in the write (one atomic write).</param>
/// <param name="Commands">Commands whose replies waited on it.</param>
/// <param name="Elapsed">From handing it to the journal to its completion.</param>
/// <param name="Outcome">Whether it is durable.</param>
public readonly record struct JournalWriteCompleted(string PersistenceId, int Events, int Commands, TimeSpan Elapsed, JournalWriteOutcome Outcome);

/// <summary>How a journal write ended.</summary>
public enum JournalWriteOutcome
{
    /// <summary>Durable.</summary>
    Persisted,

    /// <summary>The journal refused it (for example an event its serializer could not write): nothing was stored.</summary>
    Rejected,

    /// <summary>The journal failed (storage unavailable): the outcome is unknown and the entity restarts from the journal.</summary>
    Failed,
}

/// <summary>Why an entity answers a command with an error instead of its decision.</summary>
public enum EntityFailure
{
    /// <summary>The journal rejected the write: nothing of it was stored; the entity goes on.</summary>
    WriteRejected,

    /// <summary>The journal write failed; it may or may not be stored; the entity restarts from the journal.</summary>
    WriteFailed,

    /// <summary>This incarnation may no longer serve (its ownership lapsed).</summary>
    NotServing,
}

/// <summary>
/// What a command's or read's sender gets (inside <c>Status.Failure</c>, so an <c>Ask</c> throws it) when an entity
/// without a reply type of its own for errors cannot give its decision's reply.
/// </summary>
public sealed class EntityFailureException(string persistenceId, EntityFailure failure, string detail)
    : Exception($"{persistenceId}: {detail}")
{
    /// <summary>The entity's journal id.</summary>
    public string PersistenceId { get; } = persistenceId;

    /// <summary>Why.</summary>
    public EntityFailure Failure { get; } = failure;
}
