#nullable enable
using ActorGrid.Configuration;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Partitions;

/// <summary>
/// Catch-up reads of partition records that are no longer in memory: one range query of the journal
/// (<c>CurrentEventsByPersistenceId</c> on the read journal) per page, offset <c>n</c> being sequence number
/// <c>n + 1</c>. One per actor system.
/// </summary>
internal sealed class PartitionJournalReader : IExtension
{
    private readonly ICurrentEventsByPersistenceIdQuery _query;
    private readonly ActorMaterializer _materializer;

    public PartitionJournalReader(ExtendedActorSystem system)
    {
        _query = PersistenceQuery.Get(system).ReadJournalFor<ICurrentEventsByPersistenceIdQuery>(ActorGridHocon.QueryPluginId);
        _materializer = system.Materializer(namePrefix: "broker-journal-reader");
    }

    /// <summary>The reader of <paramref name="system"/>.</summary>
    public static PartitionJournalReader For(ActorSystem system) => system.WithExtension<PartitionJournalReader, Provider>();

    /// <summary>
    /// Reads the records at offsets [<paramref name="from"/>, <paramref name="toExclusive"/>) of the partition
    /// journaled under <paramref name="persistenceId"/>, as many as <paramref name="budget"/> admits. Records deleted
    /// by retention are simply absent.
    /// </summary>
    public async Task<IReadOnlyList<StoredRecord>> ReadAsync(string persistenceId, long from, long toExclusive, FetchBudget budget) =>
        await _query.CurrentEventsByPersistenceId(persistenceId, from + 1, toExclusive)
            .Where(envelope => envelope.Event is RecordAppended)
            .Select(envelope =>
            {
                var e = (RecordAppended)envelope.Event;
                return new StoredRecord(envelope.SequenceNr - 1, e.Key, e.Value, e.Timestamp);
            })
            .TakeWhile(budget.TryAdd)
            .RunWith(Sink.Seq<StoredRecord>(), _materializer);

    private sealed class Provider : ExtensionIdProvider<PartitionJournalReader>
    {
        public override PartitionJournalReader CreateExtension(ExtendedActorSystem system) => new(system);
    }
}
