using System.Text;
using ActorGrid.MapReduce.Jobs;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using static ActorGrid.MapReduce.MapReduceProtocol;
using Settings = ActorGrid.MapReduce.MapReduceProtocol.Settings;

namespace ActorGrid.MapReduce.Tests;

/// <summary>A reduce partition as an actor, on an in-memory journal: storing chunks, reducing accepted attempts, recovering.</summary>
public sealed class ReducePartitionSpec() : Akka.TestKit.Xunit2.TestKit(Config)
{
    private const string Config = """
        akka.loglevel = WARNING
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """;

    private static readonly MapReduceServices Services = new(new MapReduceJobs(), Settings.Default(2), null);

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
