#nullable enable
using ActorGrid.Observability;
using Akka.Actor;
using Akka.Persistence;

namespace ActorGrid.MapReduce;

/// <summary>
/// A persistent actor that group-commits: its state already includes the events it decided (decisions are made
/// against it), the events are journaled together in one <c>PersistAllAsync</c> per write, and what was decided while
/// a write was in flight goes into the next one. Effects and replies run once their events are durable.
/// </summary>
internal abstract class GroupCommitActor : ReceivePersistentActor
{
    private List<(object? Event, Action? After)> _buffer = [];
    private bool _writing;
    private bool _flushScheduled;
    private long _snapshotAt;

    protected GroupCommitActor()
    {
        Command<FlushBuffer>(_ =>
        {
            _flushScheduled = false;
            if (!_writing && _buffer.Count > 0)
            {
                Flush();
            }
        });
    }

    /// <summary>The entity kind its journal writes are measured under (<c>mapreduce.job</c>, ...).</summary>
    protected abstract string EntityKind { get; }

    /// <summary>Take a snapshot every this many events (0: never).</summary>
    protected abstract int SnapshotEvery { get; }

    /// <summary>The snapshot to save.</summary>
    protected abstract object SnapshotState();

    /// <summary>
    /// Journals <paramref name="events"/> (already applied to the state) and then runs <paramref name="after"/>. With no
    /// events, <paramref name="after"/> runs after the events decided before it are durable.
    /// </summary>
    protected void Commit(IReadOnlyList<object> events, Action? after = null)
    {
        if (events.Count == 0)
        {
            if (_writing || _buffer.Count > 0)
            {
                _buffer.Add((null, after));
            }
            else
            {
                after?.Invoke();
            }

            return;
        }

        for (var i = 0; i < events.Count; i++)
        {
            _buffer.Add((events[i], i == events.Count - 1 ? after : null));
        }

        // Written once the messages already in the mailbox have been handled, so they share the write.
        if (!_writing && !_flushScheduled)
        {
            _flushScheduled = true;
            Self.Tell(FlushBuffer.Instance);
        }
    }

    /// <inheritdoc />
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // The state already holds the refused events and the write would never complete: restart from the journal
        // (the next message recovers the durable state) rather than go on from a state the journal does not have.
        base.OnPersistRejected(cause, @event, sequenceNr);
        Context.Stop(Self);
    }

    /// <summary>Notes the sequence number a recovered snapshot was taken at.</summary>
    protected void SnapshotRecovered(long sequenceNr) => _snapshotAt = sequenceNr;

    private void Flush()
    {
        var batch = _buffer;
        _buffer = [];
        var events = batch.Where(b => b.Event is not null).Select(b => b.Event!).ToList();
        if (events.Count == 0)
        {
            RunAfter(batch);
            return;
        }

        _writing = true;
        var persisted = 0;
        var write = NodeTelemetry.For(Context.System).Journal.Begin(EntityKind, PersistenceId, events.Count);
        PersistAllAsync(events, _ =>
        {
            if (++persisted < events.Count)
            {
                return;
            }

            write.Complete();
            _writing = false;
            RunAfter(batch);
            if (SnapshotEvery > 0 && LastSequenceNr - _snapshotAt >= SnapshotEvery)
            {
                _snapshotAt = LastSequenceNr;
                SaveSnapshot(SnapshotState());
            }

            if (!_writing && _buffer.Count > 0)
            {
                Flush();
            }
        });
    }

    private sealed class FlushBuffer
    {
        public static readonly FlushBuffer Instance = new();
    }

    private static void RunAfter(List<(object? Event, Action? After)> batch)
    {
        foreach (var (_, after) in batch)
        {
            after?.Invoke();
        }
    }
}
