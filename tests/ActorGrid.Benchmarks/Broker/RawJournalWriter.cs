#nullable enable
using ActorGrid.Configuration;
using Akka.Actor;
using Akka.Persistence;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Benchmarks.Broker;

/// <summary>
/// The baseline: a bare persistent actor that writes batches of the broker's own record event with one
/// <c>PersistAll</c> each, into the same journal with the same serializer — the fastest a partition could append.
/// </summary>
internal sealed class RawJournalWriter : UntypedPersistentActor
{
    public RawJournalWriter(string persistenceId)
    {
        PersistenceId = persistenceId;
        JournalPluginId = ActorGridHocon.JournalPluginId;
    }

    private long _nextSequence;

    /// <inheritdoc />
    public override string PersistenceId { get; }

    public static Props PropsFor(string persistenceId) => Props.Create(() => new RawJournalWriter(persistenceId));

    /// <inheritdoc />
    protected override void OnCommand(object message)
    {
        if (message is not Write write)
        {
            Unhandled(message);
            return;
        }

        var replyTo = Sender;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var remaining = write.Count;
        var first = _nextSequence;
        _nextSequence += write.Count;
        PersistAll(Enumerable.Range(0, write.Count).Select(i => write.ProducerId is null
            ? new RecordAppended(now, null, write.Value, null, -1, -1)
            : new RecordAppended(now, null, write.Value, write.ProducerId, first + i, first)), _ =>
        {
            if (--remaining == 0)
            {
                replyTo.Tell(new Written(write.Count));
            }
        });
    }

    /// <inheritdoc />
    protected override void OnRecover(object message)
    {
    }

    /// <summary>
    /// Write <paramref name="Count"/> records as one batch; with <paramref name="ProducerId"/>, each carries it and
    /// its sequence, as the records of an idempotent producer do.
    /// </summary>
    public sealed record Write(int Count, byte[] Value, string? ProducerId = null);

    /// <summary>The batch is in the journal.</summary>
    public sealed record Written(int Count);
}
