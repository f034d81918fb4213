using System.Collections.Immutable;
using System.Text;
using ActorGrid.MapReduce.Inputs;
using ActorGrid.MapReduce.Jobs;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Configuration;
using static ActorGrid.MapReduce.MapReduceProtocol;
using Settings = ActorGrid.MapReduce.MapReduceProtocol.Settings;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Text splitting, reduce partition state and the wire format.</summary>
public sealed class InputsAndStateTests
{
    [Fact]
    public async Task Text_is_split_at_line_ends_and_every_line_is_one_record_keyed_by_its_number()
    {
        var text = "alpha\nbeta\r\n\ngamma delta\nepsilon";
        var plans = TextInput.Plan(text, splitChars: 8);
        var input = new TextInput(Settings.Default(2));

        var records = new List<InputRecord>();
        foreach (var plan in plans)
        {
            var split = (TextSplit)plan.Split;
            Assert.True(split.Start + split.Length == text.Length || text[split.Start + split.Length - 1] == '\n');
            var task = new RunMapTask("j", 0, 1, "wordcount", "{}", new InputSpec("", null, null), split, text.Substring(split.Start, split.Length), 1);
            await foreach (var batch in input.ReadAsync(task, CancellationToken.None))
            {
                records.AddRange(batch);
            }
        }

        Assert.True(plans.Count > 1);
        Assert.Equal(["1", "2", "3", "4", "5"], records.Select(r => r.Key));
        Assert.Equal(["alpha", "beta", "", "gamma delta", "epsilon"], records.Select(r => r.Text));
    }

    [Fact]
    public void Kv_partitions_are_grouped_by_owner_into_about_the_splits_per_node()
    {
        // Partitions 0..9: A owns the even ones, B the odd ones except 9, whose owner is unknown.
        var owners = Enumerable.Range(0, 10).Select(p => p == 9 ? null : p % 2 == 0 ? "A" : "B").ToArray();

        var plans = KvPrefixInput.Group(owners, splitsPerNode: 2);

        Assert.Equal(
            [":9", "A:0,2,4", "A:6,8", "B:1,3", "B:5,7"],
            plans.Select(p => $"{p.PreferredNode}:{string.Join(",", ((KvPartitionsSplit)p.Split).Partitions)}").Order(StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(0, 10), plans.SelectMany(p => ((KvPartitionsSplit)p.Split).Partitions).Order());
    }

    [Fact]
    public void A_reduce_partition_stores_each_chunk_once_and_reduces_only_accepted_attempts()
    {
        var state = ReducePartitionState.Empty;
        var chunk = new StoreMapOutput("j.0", 3, 2, 0, Encoding.UTF8.GetBytes("""[["a",1]]"""));

        var stored = state.Store(chunk);
        state = stored.Aggregate(state, (s, e) => s.Apply(e));
        Assert.Single(stored);
        Assert.Empty(state.Store(chunk));

        // Attempt 1 of task 3 delivered too, but attempt 2 was accepted.
        state = state.Apply(new MapOutputReceived(3, 1, 0, Encoding.UTF8.GetBytes("""[["a",99]]""")));
        var accepted = new[] { new AcceptedMapOutput(3, 2, 1) };
        Assert.Empty(state.Missing(accepted));
        Assert.Equal("""[["a",1]]""", Encoding.UTF8.GetString(Assert.Single(state.Payloads(accepted))));
        Assert.Single(state.Missing([new AcceptedMapOutput(4, 1, 1)]));
    }

    [Fact]
    public void A_completed_partition_pages_its_output_and_drops_late_chunks()
    {
        var state = ReducePartitionState.Empty
            .Apply(new ReduceRunStarted(1, null))
            .Complete(1, [new("a", "1"), new("b", "2"), new("c", "3")], ImmutableDictionary<string, long>.Empty);

        Assert.Equal(["a", "b"], state.Page(null, 2).Items.Select(i => i.Key));
        Assert.True(state.Page(null, 2).More);
        Assert.Equal(["c"], state.Page("b", 2).Items.Select(i => i.Key));
        Assert.False(state.Page("b", 2).More);
        Assert.Equal(["b", "c"], state.Page("a0", 5).Items.Select(i => i.Key));
        Assert.Empty(state.Store(new StoreMapOutput("j.0", 1, 1, 0, [1])));

        var recovered = ReducePartitionState.From(state.ToSnapshot());
        Assert.True(recovered.Completed);
        Assert.Equal(3, recovered.Output.Count);
    }

    [Fact]
    public void A_run_interrupted_by_a_move_is_started_again_with_its_chunks()
    {
        var request = new RunReduce("j.0", "j", 0, "wordcount", "{}", null, [new AcceptedMapOutput(0, 1, 1)]);
        var state = ReducePartitionState.Empty
            .Apply(new MapOutputReceived(0, 1, 0, [1]))
            .Apply(new ReduceRunStarted(1, request));

        // Recovered from the journal: run 1's output was never saved; its request and chunks are there to compute it again.
        Assert.False(state.Completed);
        Assert.Equal(1, state.Run);
        Assert.Equal(request, state.Request);
        Assert.Empty(state.Missing(state.Request!.Inputs));
    }

    [Fact]
    public void Output_keys_must_be_valid_kv_keys()
    {
        Assert.Null(ReducePartition.OutputKeyProblem("out/word"));
        Assert.Contains("control characters", ReducePartition.OutputKeyProblem("out/a\tb"));
        Assert.Contains("1-1024 bytes", ReducePartition.OutputKeyProblem("out/" + new string('x', 1100)));
    }

    [Fact]
    public void Every_wire_and_journal_type_round_trips_through_the_actorgrid_serializer()
    {
        var registry = new ManifestRegistry();
        MapReduceProtocol.RegisterManifests(registry);
        var setup = BootstrapSetup.Create().WithConfig(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
            .And(SerializationChecks.Setup(registry));
        using var system = ActorSystem.Create("mr-serializer", setup);

        var checkedManifests = SerializationChecks.AssertRoundTripsAll(system, registry);

        Assert.Equal(registry.Entries.Count, checkedManifests.Count);
        Assert.All(checkedManifests, m => Assert.StartsWith("mr.", m));
    }

    [Fact]
    public void Splits_keep_their_kind_through_the_serializer()
    {
        var serializer = new ActorGridSerializer((ExtendedActorSystem)ActorSystem.Create("mr-splits"), Registry());
        var planned = new JobPlanned([new(new KvPartitionsSplit([3, 5]), "node"), new(new TextSplit(1, 2, 3), null), new(new TopicSplit("t", 1, 5, 9), null)], DateTimeOffset.UnixEpoch);

        var back = (JobPlanned)serializer.FromBinary(serializer.ToBinary(planned), serializer.Manifest(planned));

        Assert.Equal([3, 5], Assert.IsType<KvPartitionsSplit>(back.Tasks[0].Split).Partitions);
        Assert.Equal(planned.Tasks[1..], back.Tasks[1..]);
        Assert.Equal("node", back.Tasks[0].PreferredNode);
    }

    private static ManifestRegistry Registry()
    {
        var registry = new ManifestRegistry();
        MapReduceProtocol.RegisterManifests(registry);
        return registry;
    }
}

/// <summary>Result pages merged from reduce partitions stay sorted and complete up to their last key.</summary>
public sealed class ResultPagesTests
{
    [Fact]
    public void Pages_of_partitions_merge_in_key_order_up_to_the_limit()
    {
        var (items, next) = MapReduceEndpoints.MergePages(
            [Page(false, "b", "e"), Page(false, "a", "d"), Page(false, "c")], limit: 3);

        Assert.Equal(["a", "b", "c"], items.Select(i => i.Key));
        Assert.Equal("c", next);
    }

    [Fact]
    public void A_partition_cut_short_by_size_bounds_the_page()
    {
        // Partition 0 stopped after "b" (its next key is unknown, it could be "c"), so "d" may not be shown yet.
        var (items, next) = MapReduceEndpoints.MergePages([Page(true, "a", "b"), Page(false, "d")], limit: 10);

        Assert.Equal(["a", "b"], items.Select(i => i.Key));
        Assert.Equal("b", next);
    }

    [Fact]
    public void The_last_page_has_no_next()
    {
        var (items, next) = MapReduceEndpoints.MergePages([Page(false, "x"), Page(false), Page(false, "y")], limit: 10);

        Assert.Equal(["x", "y"], items.Select(i => i.Key));
        Assert.Null(next);
    }

    [Fact]
    public void A_partition_page_is_bounded_in_bytes_but_never_empty()
    {
        var state = ReducePartitionState.Empty
            .Apply(new ReduceRunStarted(1, null))
            .Complete(1, [new("a", new string('x', 100)), new("b", new string('y', 100)), new("c", "z")], ImmutableDictionary<string, long>.Empty);

        var (items, more) = state.Page(null, 10, maxBytes: 150);
        Assert.Equal(["a"], items.Select(i => i.Key));
        Assert.True(more);
    }

    [Fact]
    public void Result_pages_are_cut_by_serialized_size_and_read_every_item_once()
    {
        // Non-ASCII values are escaped (\uXXXX, 6 bytes a character): 60 KB each serialized, 20 KB by a 2-bytes-per-char estimate.
        var output = Enumerable.Range(0, 100).Select(i => new ResultItem($"k{i:D3}", new string('é', 10_000))).ToList();
        var state = ReducePartitionState.Empty.Apply(new ReduceRunStarted(1, null)).Complete(1, output, ImmutableDictionary<string, long>.Empty);

        var read = new List<ResultItem>();
        string? after = null;
        bool more;
        do
        {
            (var items, more) = state.Page(after, Settings.MaxResultLimit);
            var serialized = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new ResultPageReply(items, more, true), ActorGridSerializer.JsonOptions).Length;
            Assert.InRange(serialized, 120_000, Settings.ResultPageBytes);
            read.AddRange(items);
            after = items[^1].Key;
        }
        while (more);

        Assert.Equal(output, read);
    }

    [Fact]
    public void An_item_larger_than_a_page_comes_back_alone_and_one_larger_than_a_message_fails_its_reduce_run()
    {
        var settings = Settings.Default(2);
        var large = new ResultItem("large", new string('x', 1_000_000));
        var state = ReducePartitionState.Empty.Apply(new ReduceRunStarted(1, null))
            .Complete(1, [new("a", "1"), large, new("c", "3")], ImmutableDictionary<string, long>.Empty);

        var (items, more) = state.Page("a", 10);
        Assert.Equal([large], items);
        Assert.True(more);
        Assert.Null(ReducePartition.OversizedOutputProblem([large], settings.MaxRemoteMessageBytes));

        // 400 000 CJK characters: 2.4 MB serialized, more than the 2.25 MB frame of the default limits.
        var huge = new ResultItem("huge", new string('日', 400_000));
        var reply = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new ResultPageReply([huge], false, true), ActorGridSerializer.JsonOptions).Length;
        Assert.True(reply > ActorGrid.Configuration.ActorGridHocon.MaxFrameBytes(new()), $"{reply} bytes");
        Assert.Equal(
            $"the output for key 'huge' is 2400036 bytes serialized; one result item may take at most {settings.MaxRemoteMessageBytes} "
            + "(the remoting frame, which Kv:MaxValueBytes and Broker:MaxMessageBytes size, less its envelope)",
            ReducePartition.OversizedOutputProblem([new("a", "1"), huge], settings.MaxRemoteMessageBytes));
    }

    private static ResultPageReply Page(bool more, params string[] keys) => new([.. keys.Select(k => new ResultItem(k, "1"))], more, true);
}

/// <summary>The binary shuffle format round-trips every kind of value and key.</summary>
public sealed class ShuffleCodecTests
{
    [Fact]
    public void Values_of_every_kind_round_trip_through_chunks()
    {
        var longKey = new string('k', 700) + "ß";
        RoundTrip<long>([new("a", long.MinValue), new("ünï", -1L), new(longKey, long.MaxValue), new("", 0L)]);
        RoundTrip<int>([new("a", -7), new("b", int.MaxValue)]);
        RoundTrip<decimal>([new("a", 12.50m), new("b", -0.000001m), new("c", decimal.MaxValue)]);
        RoundTrip<double>([new("a", 1.5), new("b", double.NaN)]);
        RoundTrip<string>([new("a", "x"), new("b", ""), new("c", "日本")]);
        var lists = ShuffleRoundTrip<List<string>>([new("w", ["d1", "d2"])], 1024);
        Assert.Equal(["d1", "d2"], Assert.Single(lists).Value);
    }

    [Fact]
    public void Chunks_are_cut_at_the_size_and_an_oversized_value_is_refused()
    {
        var entries = Enumerable.Range(0, 1000).Select(i => KeyValuePair.Create($"key{i}", (long)i)).ToList();
        var chunks = ActorGrid.MapReduce.Execution.ShuffleCodec<long>.Encode(entries, 256);
        Assert.True(chunks.Length > 10);
        Assert.All(chunks.SkipLast(1), c => Assert.InRange(c.Length, 256, 256 + 32));

        var huge = new List<KeyValuePair<string, string>> { new("big", new string('x', 600)) };
        var error = Assert.Throws<InvalidOperationException>(() => ActorGrid.MapReduce.Execution.ShuffleCodec<string>.Encode(huge, 256));
        Assert.Contains("one key's value may be at most 512 bytes", error.Message);
    }

    private static void RoundTrip<T>(List<KeyValuePair<string, T>> entries) =>
        Assert.Equal(entries, ShuffleRoundTrip(entries, 512));

    private static List<KeyValuePair<string, T>> ShuffleRoundTrip<T>(List<KeyValuePair<string, T>> entries, int chunkBytes)
    {
        var back = new List<KeyValuePair<string, T>>();
        foreach (var chunk in ActorGrid.MapReduce.Execution.ShuffleCodec<T>.Encode(entries, chunkBytes))
        {
            ActorGrid.MapReduce.Execution.ShuffleCodec<T>.Decode(chunk, (key, value) => back.Add(KeyValuePair.Create(key.ToString(), value)));
        }

        return back;
    }
}
