#nullable enable
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ActorGrid.Persistence;

/// <summary>
/// Akka.Persistence.Sql's journal with one thing changed: a write that collides with another writer's events on
/// the journal's unique (persistence_id, sequence_number) index fails alone.
/// <para>
/// The SQL journal stores the writes of many entities in one transaction; when one row breaks the unique index the
/// whole transaction rolls back and every entity in it would be failed. Two writers of one entity only happen when
/// an old owner's write, sent before its lease lapsed, lands after the new owner took over (see
/// <c>ActorGrid.Coordination.SqlLease</c>). A unique violation means nothing of the transaction was stored, so each
/// write of it is checked: one whose sequence numbers another writer already holds fails (its entity stops and
/// recovers what the other wrote); every other one is written again.
/// </para>
/// </summary>
public sealed class FencedSqlWriteJournal(Akka.Configuration.Config journalConfig) : SqlWriteJournal(journalConfig)
{
    private const int MaxAttempts = 5;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <inheritdoc />
    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var write = new PendingWrite([.. messages], cancellationToken, new TaskCompletionSource<IImmutableList<Exception>>(TaskCreationOptions.RunContinuationsAsynchronously));
        Submit(write, attempt: 1);
        return write.Result.Task;
    }

    /// <inheritdoc />
    protected override bool ReceivePluginInternal(object message)
    {
        switch (message)
        {
            case Recheck recheck:
                var (write, attempt) = (recheck.Write, recheck.Attempt);
                var self = Self;
                var persistenceId = write.Messages[0].PersistenceId;
                var lowest = write.Messages.Min(m => m.LowestSequenceNr);
                ReadHighestSequenceNrAsync(persistenceId, 0, write.CancellationToken).ContinueWith(
                    highest =>
                    {
                        if (!highest.IsCompletedSuccessfully)
                        {
                            write.Result.TrySetException(recheck.Cause);
                        }
                        else if (highest.Result >= lowest)
                        {
                            _log.Warning("Write of {PersistenceId} from sequence number {SequenceNr} collided with another writer's events (up to {Highest}); failing it alone", persistenceId, lowest, highest.Result);
                            write.Result.TrySetException(recheck.Cause);
                        }
                        else
                        {
                            self.Tell(new Resubmit(write, attempt + 1));
                        }
                    },
                    TaskScheduler.Default);
                return true;
            case Resubmit resubmit:
                Submit(resubmit.Write, resubmit.Attempt);
                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    private void Submit(PendingWrite write, int attempt)
    {
        var self = Self;
        base.WriteMessagesAsync(write.Messages, write.CancellationToken).ContinueWith(
            task =>
            {
                if (task.IsCompletedSuccessfully)
                {
                    write.Result.TrySetResult(task.Result);
                }
                else if (attempt < MaxAttempts && task.Exception is { } e && IsUniqueViolation(e))
                {
                    self.Tell(new Recheck(write, attempt, e.InnerExceptions.Count == 1 ? e.InnerExceptions[0] : e));
                }
                else
                {
                    write.Result.TrySetException(task.Exception?.InnerExceptions.Count == 1 ? task.Exception.InnerExceptions[0] : (Exception?)task.Exception ?? new TaskCanceledException());
                }
            },
            TaskScheduler.Default);
    }

    /// <summary>Whether <paramref name="error"/> is, or wraps, a unique-index violation (SQLite or PostgreSQL).</summary>
    internal static bool IsUniqueViolation(Exception? error) => error switch
    {
        null => false,
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsUniqueViolation),
        _ => IsUniqueViolation(error.InnerException),
    };

    private sealed record PendingWrite(IReadOnlyList<AtomicWrite> Messages, CancellationToken CancellationToken, TaskCompletionSource<IImmutableList<Exception>> Result);

    private sealed record Recheck(PendingWrite Write, int Attempt, Exception Cause);

    private sealed record Resubmit(PendingWrite Write, int Attempt);
}
