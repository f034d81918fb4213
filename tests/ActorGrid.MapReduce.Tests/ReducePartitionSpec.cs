using System.Text;
using ActorGrid.MapReduce.Jobs;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using ActorGrid.Configuration;
using Akka.Configuration;
using Akka.Persistence;
using static ActorGrid.MapReduce.MapReduceProtocol;
using Settings = ActorGrid.MapReduce.MapReduceProtocol.Settings;

namespace ActorGrid.MapReduce.Tests;

/// <summary>A reduce partition as an actor, on the real SQLite journal: storing chunks, reducing accepted attempts, recovering.</summary>
public sealed class ReducePartitionSpec() : Akka.TestKit.Xunit2.TestKit(Setup())
{
    private static readonly MapReduceServices Services = new(new MapReduceJobs(), Settings.Default(2), null);

    private static Akka.Actor.Setup.ActorSystemSetup Setup()
    {
        var options = new ActorGridOptions { Port = 0, DataDir = Path.Combine(Path.GetTempPath(), "actorgrid-tests", "reduce-" + Guid.NewGuid().ToString("N")) };
        JournalPreparation.PrepareAsync(options).GetAwaiter().GetResult();
        var registry = new ManifestRegistry();
        MapReduceProtocol.RegisterManifests(registry);
        return BootstrapSetup.Create()
            .WithConfig(ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.actor.provider = local").WithFallback(ActorGridHocon.Build(options)))
            .And(SerializationChecks.Setup(registry));
    }

    [Fact]
    public async Task Concurrent_chunks_share_journal_writes_each_is_acknowledged_once_durable_and_they_survive_a_restart()
    {
        var writes = new System.Collections.Concurrent.ConcurrentQueue<long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "actorgrid.journal.write.events")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, events, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "actorgrid.entity", Value: "mapreduce.reduce" })
                {
                    writes.Enqueue(events);
                }
            }
        });
        listener.Start();
        var partition = Sys.ActorOf(ReducePartition.Props("j5.0", Services));
        var chunks = Enumerable.Range(0, 100).Select(t => new StoreMapOutput("j5.0", t, 1, 0, Chunk("word" + t))).ToList();

        foreach (var chunk in chunks)
        {
            partition.Tell(chunk);
        }

        var stored = Enumerable.Range(0, 100).Select(_ => ExpectMsg<MapOutputStored>(TimeSpan.FromSeconds(20))).ToList();
        Assert.Equal(Enumerable.Range(0, 100), stored.Select(s => s.Task).Order());
        Assert.Equal(100, writes.Sum());
        Assert.True(writes.Count <= 20, $"100 chunks sent at once took {writes.Count} journal writes ({string.Join(", ", writes)} events each)");

        // Durable before acknowledged: a new incarnation holds every chunk and reduces them all.
        await StopAsync(partition);
        var again = Sys.ActorOf(ReducePartition.Props("j5.0", Services));
        again.Tell(Run("j5.0", [.. Enumerable.Range(0, 100).Select(t => new AcceptedMapOutput(t, 1, 1))]));
        ExpectMsg<ReduceTaskReply>(r => r.State == ReduceRunState.Running);
        var done = ExpectMsg<ReduceTaskReply>(r => r.State == ReduceRunState.Completed, TimeSpan.FromSeconds(20));
        Assert.Equal(100, done.Counters[JobCounters.ReduceOutputRecords]);
    }

    [Fact]
    public void Stores_each_chunk_once_and_reduces_only_the_accepted_attempt()
    {
        var partition = Sys.ActorOf(ReducePartition.Props("j1.0", Services));
        var accepted = Chunk("apple banana apple");
        var loser = Chunk("cherry");

        partition.Tell(new StoreMapOutput("j1.0", 0, 2, 0, accepted));
        ExpectMsg<MapOutputStored>(s => s.Attempt == 2);
        partition.Tell(new StoreMapOutput("j1.0", 0, 2, 0, accepted));
        ExpectMsg<MapOutputStored>();
        partition.Tell(new StoreMapOutput("j1.0", 0, 1, 0, loser));
        ExpectMsg<MapOutputStored>(s => s.Attempt == 1);

        partition.Tell(Run("j1.0", new AcceptedMapOutput(0, 2, 1)));
        ExpectMsg<ReduceTaskReply>(r => r.State == ReduceRunState.Running && r.Run == 1);
        var done = ExpectMsg<ReduceTaskReply>(r => r.State == ReduceRunState.Completed);
        Assert.Equal(2, done.Counters[JobCounters.ReduceOutputRecords]);

        partition.Tell(new GetResultPage("j1.0", null, 10));
        var page = ExpectMsg<ResultPageReply>();
        Assert.True(page.Ready);
        Assert.Equal([new ResultItem("apple", "2"), new ResultItem("banana", "1")], page.Items);

        // Asked again (a coordinator that did not hear the answer): still completed, nothing runs twice.
        partition.Tell(Run("j1.0", new AcceptedMapOutput(0, 2, 1)));
        ExpectMsg<ReduceTaskReply>(r => r.State == ReduceRunState.Completed && r.Run == 1);
    }

    [Fact]
    public void Missing_accepted_chunks_fail_the_run_with_a_message()
    {
        var partition = Sys.ActorOf(ReducePartition.Props("j2.0", Services));

        partition.Tell(Run("j2.0", new AcceptedMapOutput(3, 1, 2)));

        var failed = ExpectMsg<ReduceTaskReply>(r => r.State == ReduceRunState.Failed);
        Assert.Contains("2 accepted map output chunks are missing", failed.Error);
    }

    [Fact]
    public void A_partition_that_died_before_saving_its_output_computes_it_again_from_its_journal()
    {
        // What a partition journaled before dying: a chunk and the request of run 1 — but no saved output.
        var request = Run("j3.1", new AcceptedMapOutput(0, 1, 1));
        IActorGridMessage[] journaled = [new MapOutputReceived(0, 1, 0, Chunk("one two two")), new ReduceRunStarted(1, request)];
        var seeder = Sys.ActorOf(Props.Create(() => new Seeder("mr-reduce-j3.1", journaled)));
        seeder.Tell("done?");
        ExpectMsg("done");

        var partition = Sys.ActorOf(ReducePartition.Props("j3.1", Services));
        partition.Tell(new GetResultPage("j3.1", null, 10));
        Assert.False(ExpectMsg<ResultPageReply>().Ready);

        AwaitAssert(() =>
        {
            partition.Tell(new GetResultPage("j3.1", null, 10));
            var page = ExpectMsg<ResultPageReply>();
            Assert.True(page.Ready);
            Assert.Equal([new ResultItem("one", "1"), new ResultItem("two", "2")], page.Items);
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Chunks_arriving_after_completion_are_acknowledged_and_dropped()
    {
        var partition = Sys.ActorOf(ReducePartition.Props("j4.0", Services));
        partition.Tell(new StoreMapOutput("j4.0", 0, 1, 0, Chunk("a")));
        ExpectMsg<MapOutputStored>();
        partition.Tell(Run("j4.0", new AcceptedMapOutput(0, 1, 1)));
        ExpectMsg<ReduceTaskReply>(r => r.State == ReduceRunState.Running);
        ExpectMsg<ReduceTaskReply>(r => r.State == ReduceRunState.Completed);

        partition.Tell(new StoreMapOutput("j4.0", 0, 2, 0, Chunk("late")));
        ExpectMsg<MapOutputStored>();
        partition.Tell(new GetResultPage("j4.0", null, 10));
        Assert.Equal([new ResultItem("a", "1")], ExpectMsg<ResultPageReply>().Items);
    }

    private async Task StopAsync(IActorRef actor)
    {
        Watch(actor);
        Sys.Stop(actor);
        await ExpectTerminatedAsync(actor);
    }

    private static RunReduce Run(string entityId, params AcceptedMapOutput[] inputs) =>
        new(entityId, entityId[..entityId.IndexOf('.')], int.Parse(entityId[(entityId.IndexOf('.') + 1)..]), "wordcount", "{}", null, inputs);

    /// <summary>One chunk of word-count map output for one reducer.</summary>
    private static byte[] Chunk(string text)
    {
        var map = Services.Jobs.Get("wordcount").CreateMapRunner(JobParameters.Empty, 1, 64 * 1024);
        map.Map(new InputRecord("r", Encoding.UTF8.GetBytes(text)));
        return Assert.Single(map.Finish().ChunksPerReducer[0]);
    }

    private sealed class Seeder : ReceivePersistentActor
    {
        private readonly IReadOnlyList<IActorGridMessage> _events;
        private bool _written;

        public Seeder(string persistenceId, IReadOnlyList<IActorGridMessage> events)
        {
            PersistenceId = persistenceId;
            JournalPluginId = ActorGridHocon.JournalPluginId;
            SnapshotPluginId = ActorGridHocon.SnapshotPluginId;
            _events = events;
            Command<string>(_ =>
            {
                var sender = Sender;
                if (_written)
                {
                    sender.Tell("done");
                    return;
                }

                PersistAll(_events, e =>
                {
                    if (ReferenceEquals(e, _events[^1]))
                    {
                        _written = true;
                        sender.Tell("done");
                    }
                });
            });
        }

        public override string PersistenceId { get; }
    }
}
