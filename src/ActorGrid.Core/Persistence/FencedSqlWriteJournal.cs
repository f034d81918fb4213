#nullable enable
using System.Collections.Immutable;
using System.Diagnostics;
using ActorGrid.Observability;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ActorGrid.Persistence;

/// <summary>
/// Akka.Persistence.Sql's journal, fed so that the writes of many entities share one transaction, and with a write
/// that collides with another writer's events failing alone.
/// <para>
/// <b>Coalescing.</b> Every entity's write reaches the journal as its own <c>WriteMessages</c>. The plugin's writer
/// queue is meant to batch the writes that queue up while a transaction runs, but on SQLite the transaction runs
/// synchronously inside the queue's stream stage (Microsoft.Data.Sqlite has no real async I/O), so the writes that
/// arrive meanwhile wait in the stage's mailbox and each one then gets a transaction, a commit and an fsync of its own:
/// measured, ~33 writes waited at the journal while every transaction carried ~1 row (docs/benchmarks.md). So this
/// journal keeps one write of its own in flight to the plugin and hands it, when that one completes, every write
/// that arrived meanwhile as one call: one transaction, one commit, one fsync for all of them. Each entity still has
/// its answer (and its rejection, if the serializer refused its events) only once that transaction is durable, and
/// writes keep their arrival order.
/// </para>
/// <para>
/// <b>Collisions.</b> When one row breaks the journal's unique (persistence_id, sequence_number) index the whole
/// transaction rolls back, which would fail every entity in it. Two writers of one entity only happen when an old
/// owner's write, sent before its lease lapsed, lands after the new owner took over (see
/// <c>ActorGrid.Coordination.SqlLease</c>). A unique violation means nothing of the transaction was stored, so each
/// write of it is checked: one whose sequence numbers another writer already holds fails (its entity stops and
/// recovers what the other wrote); every other one is written again.
/// </para>
/// </summary>
public sealed class FencedSqlWriteJournal : SqlWriteJournal
{
    private const int MaxAttempts = 5;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly JournalMetrics _metrics = NodeTelemetry.For(Context.System).Journal;
    private readonly int _maxEventsPerTransaction;
    private readonly List<PendingWrite> _queued = [];
    private readonly Dictionary<string, Task> _unfinished = [];
    private bool _inFlight;

    /// <summary>Creates the journal from its plugin configuration (<c>batch-size</c> bounds the events of one transaction).</summary>
    public FencedSqlWriteJournal(Akka.Configuration.Config journalConfig)
        : base(journalConfig)
    {
        _maxEventsPerTransaction = Math.Max(1, journalConfig.GetInt("batch-size", 100));
    }

    /// <inheritdoc />
    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var write = new PendingWrite([.. messages], cancellationToken, new TaskCompletionSource<IImmutableList<Exception>>(TaskCreationOptions.RunContinuationsAsynchronously), Attempt: 1);
        var self = Self;
        foreach (var persistenceId in write.Messages.Select(m => m.PersistenceId).Distinct())
        {
            _unfinished[persistenceId] = write.Result.Task;
            write.Result.Task.ContinueWith(t => self.Tell(new QueuedWriteFinished(persistenceId, t)), TaskContinuationOptions.ExecuteSynchronously);
        }

        Enqueue(write);
        return write.Result.Task;
    }

    /// <inheritdoc />
    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        // A write still queued here is not yet in the plugin's own bookkeeping: wait for it (failed or not) first.
        if (_unfinished.TryGetValue(persistenceId, out var unfinished))
        {
            await unfinished.ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        return await base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);
    }

    /// <inheritdoc />
    protected override bool ReceivePluginInternal(object message)
    {
        switch (message)
        {
            case TransactionDone:
                _inFlight = false;
                SubmitQueued();
                return true;
            case Recheck recheck:
                RecheckCollision(recheck.Write, recheck.Cause);
                return true;
            case Requeue requeue:
                Enqueue(requeue.Write with { Attempt = requeue.Write.Attempt + 1 });
                return true;
            case QueuedWriteFinished finished:
                if (_unfinished.TryGetValue(finished.PersistenceId, out var latest) && ReferenceEquals(latest, finished.Write))
                {
                    _unfinished.Remove(finished.PersistenceId);
                }

                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    private void Enqueue(PendingWrite write)
    {
        _queued.Add(write);
        SubmitQueued();
    }

    /// <summary>Hands every queued write (up to <c>batch-size</c> events) to the plugin as one transaction, if none is in flight.</summary>
    private void SubmitQueued()
    {
        if (_inFlight || _queued.Count == 0)
        {
            return;
        }

        var take = 0;
        var events = 0;
        while (take < _queued.Count && (take == 0 || events + _queued[take].Events <= _maxEventsPerTransaction))
        {
            events += _queued[take].Events;
            take++;
        }

        var batch = _queued.GetRange(0, take);
        _queued.RemoveRange(0, take);
        _inFlight = true;
        var self = Self;
        var started = Stopwatch.GetTimestamp();
        var messages = batch.Count == 1 ? batch[0].Messages : batch.SelectMany(w => w.Messages).ToList();
        // Not one write's token: a write that waited here past its own deadline must not cancel the others with it.
        base.WriteMessagesAsync(messages, CancellationToken.None).ContinueWith(
            task =>
            {
                _metrics.RecordTransaction(batch.Count, Stopwatch.GetElapsedTime(started));
                if (task.IsCompletedSuccessfully)
                {
                    // One result per atomic write, in order: each write gets its own slice.
                    var offset = 0;
                    foreach (var write in batch)
                    {
                        write.Result.TrySetResult(batch.Count == 1 ? task.Result : [.. task.Result.Skip(offset).Take(write.Messages.Count)]);
                        offset += write.Messages.Count;
                    }
                }
                else
                {
                    var cause = task.Exception is { InnerExceptions.Count: 1 } e ? e.InnerExceptions[0] : (Exception?)task.Exception ?? new TaskCanceledException();
                    foreach (var write in batch)
                    {
                        if (write.Attempt < MaxAttempts && IsUniqueViolation(cause))
                        {
                            self.Tell(new Recheck(write, cause));
                        }
                        else
                        {
                            write.Result.TrySetException(cause);
                        }
                    }
                }

                self.Tell(TransactionDone.Instance);
            },
            TaskScheduler.Default);
    }

    /// <summary>After a unique violation: fails <paramref name="write"/> if another writer holds its sequence numbers, else writes it again.</summary>
    private void RecheckCollision(PendingWrite write, Exception cause)
    {
        var self = Self;
        var persistenceId = write.Messages[0].PersistenceId;
        var lowest = write.Messages.Min(m => m.LowestSequenceNr);
        base.ReadHighestSequenceNrAsync(persistenceId, 0, write.CancellationToken).ContinueWith(
            highest =>
            {
                if (!highest.IsCompletedSuccessfully)
                {
                    write.Result.TrySetException(cause);
                }
                else if (highest.Result >= lowest)
                {
                    _log.Warning("Write of {PersistenceId} from sequence number {SequenceNr} collided with another writer's events (up to {Highest}); failing it alone", persistenceId, lowest, highest.Result);
                    write.Result.TrySetException(cause);
                }
                else
                {
                    self.Tell(new Requeue(write));
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

    private sealed record PendingWrite(IReadOnlyList<AtomicWrite> Messages, CancellationToken CancellationToken, TaskCompletionSource<IImmutableList<Exception>> Result, int Attempt)
    {
        public int Events { get; } = Messages.Sum(m => m.Size);
    }

    private sealed class TransactionDone
    {
        public static readonly TransactionDone Instance = new();
    }

    private sealed record Recheck(PendingWrite Write, Exception Cause);

    private sealed record Requeue(PendingWrite Write);

    private sealed record QueuedWriteFinished(string PersistenceId, Task Write);
}
