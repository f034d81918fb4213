using ActorGrid.Configuration;
using ActorGrid.Entities;
using ActorGrid.Persistence;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Configuration;
using Xunit.Abstractions;

namespace ActorGrid.Core.Tests;

/// <summary>The entity base on the real SQLite journal: group commit, replies after durability, recovery, snapshots.</summary>
public sealed class GridEntitySpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly string DataDir = Path.Combine(Path.GetTempPath(), "actorgrid-tests", "entity-" + Guid.NewGuid().ToString("N"));

    public GridEntitySpec(ITestOutputHelper output)
        : base(Setup(), output: output)
    {
    }

    private static Akka.Actor.Setup.ActorSystemSetup Setup()
    {
        var options = new ActorGridOptions { Port = 0, DataDir = DataDir };
        JournalPreparation.PrepareAsync(options).GetAwaiter().GetResult();
        var registry = new ManifestRegistry().Add<Added>("test.added.v1").Add<Total>("test.total.v1");
        return BootstrapSetup.Create()
            .WithConfig(ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(ActorGridHocon.Build(options)))
            .And(SerializationChecks.Setup(registry));
    }

    public sealed record Add(int Amount, bool Poison = false);

    public interface IAdderEvent : IActorGridMessage;

    public sealed record Added(int Amount) : IAdderEvent;

    /// <summary>Deliberately not in the manifest table: the serializer refuses it, so the journal rejects the write.</summary>
    public sealed record Unwritable(int Amount) : IAdderEvent;

    public sealed record Total(long Sum, int Events) : IActorGridMessage;

    private sealed class Adder : IEntityBehavior<Total, Add, IAdderEvent>
    {
        public Total Initial(string entityId) => new(0, 0);

        public Decision<Total, IAdderEvent> Decide(Total state, Add command) => command switch
        {
            { Poison: true } => Decision<Total, IAdderEvent>.Persist(new Unwritable(command.Amount), s => s),
            { Amount: 0 } => Decision<Total, IAdderEvent>.Respond(state),
            _ => Decision<Total, IAdderEvent>.Persist(new Added(command.Amount), s => s),
        };

        public Total Apply(Total state, IAdderEvent e) => e switch
        {
            Added added => new(state.Sum + added.Amount, state.Events + 1),
            Unwritable poison => new(state.Sum + poison.Amount, state.Events + 1),
            _ => state,
        };
    }

    private IActorRef Start(string id, int snapshotEvery = 1000) => StartIn(Sys, id, snapshotEvery);

    private static IActorRef StartIn(ActorSystem system, string id, int snapshotEvery = 1000, Action<JournalWriteCompleted>? onWrite = null)
    {
        var settings = DurableEntitySettings.Default with { SnapshotEvery = snapshotEvery, OnJournalWrite = onWrite };
        return system.ActorOf(Props.Create(() => new GridEntity<Total, Add, IAdderEvent>("adder", id, new Adder(), settings)));
    }

    [Fact]
    public async Task A_hundred_concurrent_commands_reach_the_journal_in_a_few_writes()
    {
        var writes = new System.Collections.Concurrent.ConcurrentQueue<JournalWriteCompleted>();
        var entity = StartIn(Sys, "batched", onWrite: writes.Enqueue);
        await entity.Ask<Total>(new Add(0), TimeSpan.FromSeconds(10)); // recovered, so the hundred meet a running entity

        var replies = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => entity.Ask<Total>(new Add(1), TimeSpan.FromSeconds(20))));

        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), replies.Select(r => r.Sum).Order());
        Assert.All(writes, w => Assert.Equal(JournalWriteOutcome.Persisted, w.Outcome));
        Assert.Equal(100, writes.Sum(w => w.Events));
        Assert.True(writes.Count <= 10, $"100 concurrent commands took {writes.Count} journal writes ({string.Join(", ", writes.Select(w => w.Events))} events each)");
        await StopAsync(entity);
        Assert.Equal(new Total(100, 100), await StartIn(Sys, "batched").Ask<Total>(new Add(0), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_write_the_serializer_refuses_answers_its_commands_with_an_error_and_the_next_command_succeeds()
    {
        var writes = new System.Collections.Concurrent.ConcurrentQueue<JournalWriteCompleted>();
        var entity = StartIn(Sys, "rejected", onWrite: writes.Enqueue);
        Assert.Equal(new Total(5, 1), await entity.Ask<Total>(new Add(5), TimeSpan.FromSeconds(10)));

        // The poison and the commands batched with it share one atomic write: all of them hear it failed.
        var batch = new[] { new Add(1), new Add(100, Poison: true), new Add(2) }
            .Select(c => entity.Ask<Total>(c, TimeSpan.FromSeconds(10))).ToList();
        foreach (var ask in batch)
        {
            var error = await Assert.ThrowsAsync<EntityFailureException>(() => ask);
            Assert.Equal(EntityFailure.WriteRejected, error.Failure);
        }

        Assert.Contains(writes, w => w.Outcome == JournalWriteOutcome.Rejected);

        // Not wedged, and the in-memory state is the durable one: nothing of the rejected write counts.
        Assert.Equal(new Total(12, 2), await entity.Ask<Total>(new Add(7), TimeSpan.FromSeconds(10)));
        await StopAsync(entity);
        Assert.Equal(new Total(12, 2), await StartIn(Sys, "rejected").Ask<Total>(new Add(0), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task The_writes_of_many_entities_share_journal_transactions_and_a_refused_one_fails_alone()
    {
        var transactions = new System.Collections.Concurrent.ConcurrentQueue<long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == ActorGrid.Observability.JournalMetrics.TransactionWritesInstrument)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, writes, _, _) => transactions.Enqueue(writes));
        listener.Start();
        var entities = Enumerable.Range(0, 64).Select(i => StartIn(Sys, "shared-" + i)).ToList();
        await Task.WhenAll(entities.Select(e => e.Ask<Total>(new Add(0), TimeSpan.FromSeconds(30)))); // recovered (at most 50 at once); nothing written
        transactions.Clear();

        // One write per entity, all at once; entity 40's events are refused by the serializer. The test holds the
        // file's write lock until every entity has sent its write to the journal, so the writes meet there however
        // fast this machine's disk commits (on a fast one each could otherwise commit before the next arrived).
        const int poisoned = 40;
        await using var writeLock = new Microsoft.Data.Sqlite.SqliteConnection(SqliteJournalFile.ConnectionStringFor(DataDir));
        await writeLock.OpenAsync();
        using var held = writeLock.BeginTransaction(deferred: false);
        var asks = entities.Select((e, i) => e.Ask<Total>(new Add(1, Poison: i == poisoned), TimeSpan.FromSeconds(20))).ToList();
        foreach (var entity in entities)
        {
            // In mailbox order: the first answer comes after the Add, the second after the flush the Add queued behind it,
            // whose write went to the journal as that message ended.
            await entity.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(10));
            await entity.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(10));
        }

        held.Rollback();
        for (var i = 0; i < asks.Count; i++)
        {
            if (i == poisoned)
            {
                Assert.Equal(EntityFailure.WriteRejected, (await Assert.ThrowsAsync<EntityFailureException>(() => asks[i])).Failure);
            }
            else
            {
                Assert.Equal(new Total(1, 1), await asks[i]);
            }
        }

        Assert.Equal(64, transactions.Sum());
        Assert.True(transactions.Count <= 2, $"64 concurrent entity writes took {transactions.Count} journal transactions ({string.Join(", ", transactions)} writes each)");

        // The refused write was alone in failing, and its entity goes on from its durable state.
        Assert.Equal(new Total(2, 1), await entities[poisoned].Ask<Total>(new Add(2), TimeSpan.FromSeconds(10)));
        foreach (var i in new[] { 0, poisoned, 63 })
        {
            await StopAsync(entities[i]);
        }

        Assert.Equal(new Total(1, 1), await StartIn(Sys, "shared-0").Ask<Total>(new Add(0), TimeSpan.FromSeconds(10)));
        Assert.Equal(new Total(2, 1), await StartIn(Sys, "shared-" + poisoned).Ask<Total>(new Add(0), TimeSpan.FromSeconds(10)));
        Assert.Equal(new Total(1, 1), await StartIn(Sys, "shared-63").Ask<Total>(new Add(0), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Concurrent_commands_are_all_applied_in_order_and_survive_a_restart()
    {
        var entity = Start("a");
        var replies = await Task.WhenAll(Enumerable.Range(1, 200).Select(i => entity.Ask<Total>(new Add(1), TimeSpan.FromSeconds(20))));

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), replies.Select(r => r.Sum).Order());
        await StopAsync(entity);

        var recovered = await Start("a").Ask<Total>(new Add(0), TimeSpan.FromSeconds(10));
        Assert.Equal(new Total(200, 200), recovered);
    }

    [Fact]
    public async Task Recovery_starts_from_the_latest_snapshot()
    {
        var entity = Start("s", snapshotEvery: 10);
        for (var i = 0; i < 25; i++)
        {
            await entity.Ask<Total>(new Add(2), TimeSpan.FromSeconds(10));
        }

        await StopAsync(entity);
        var recovered = await Start("s", snapshotEvery: 10).Ask<Total>(new Add(0), TimeSpan.FromSeconds(10));

        Assert.Equal(new Total(50, 25), recovered);
    }

    [Fact]
    public async Task An_entity_that_moves_back_to_a_node_it_lived_on_recovers_every_event()
    {
        // Akka.Persistence.Sql stamps events with one writer id per node's journal, not per incarnation, so the
        // default replay filter took events written after a move back (A, B, A) for a stale writer's and dropped them.
        using var other = ActorSystem.Create("other", Setup());
        foreach (var system in new[] { Sys, other, Sys })
        {
            var entity = StartIn(system, "moved");
            for (var i = 0; i < 3; i++)
            {
                await entity.Ask<Total>(new Add(1), TimeSpan.FromSeconds(10));
            }

            await entity.GracefulStop(TimeSpan.FromSeconds(10));
        }

        var recovered = await StartIn(other, "moved").Ask<Total>(new Add(0), TimeSpan.FromSeconds(10));

        Assert.Equal(new Total(9, 9), recovered);
        await other.Terminate();
    }

    private async Task StopAsync(IActorRef entity)
    {
        Watch(entity);
        Sys.Stop(entity);
        await ExpectTerminatedAsync(entity);
    }
}
