using System.Text;
using ActorGrid.Contracts;
using ActorGrid.MapReduce.Inputs;
using ActorGrid.MapReduce.Jobs;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Topic input: offset ranges fixed at planning, cut into splits, read page by page.</summary>
public sealed class TopicInputTests
{
    private static readonly Settings Settings = Settings.Default(2) with { TopicSplitRecords = 4 };

    [Fact]
    public async Task Each_partition_range_present_at_planning_is_cut_into_splits()
    {
        var topic = new InMemoryTopic(("t", [10, 0, 3]));
        topic.Trim("t", 0, 2); // retention removed offsets 0 and 1 of partition 0

        var plans = await new TopicInput(topic, Settings).PlanAsync(Spec("t"), CancellationToken.None);

        Assert.Equal(
            ["0:2-6", "0:6-10", "2:0-3"],
            plans.Select(p => (TopicSplit)p.Split).Select(s => $"{s.Partition}:{s.FromOffset}-{s.ToOffset}"));
        Assert.All(plans, p => Assert.Null(p.PreferredNode));
    }

    [Fact]
    public async Task A_split_reads_exactly_its_offsets_even_when_more_arrived_since_planning()
    {
        var topic = new InMemoryTopic(("t", [7]));
        var input = new TopicInput(topic, Settings with { TopicSplitRecords = 100 });
        var plan = Assert.Single(await input.PlanAsync(Spec("t"), CancellationToken.None));
        topic.Append("t", 0, 5);

        var records = await ReadAsync(input, plan.Split);

        Assert.Equal(Enumerable.Range(0, 7).Select(o => $"t/0/{o}"), records.Select(r => r.Key));
        Assert.Equal("message 3", records[3].Text);
    }

    [Fact]
    public async Task A_range_removed_by_retention_after_planning_ends_the_split()
    {
        var topic = new InMemoryTopic(("t", [6]));
        var input = new TopicInput(topic, Settings with { TopicSplitRecords = 100 });
        var plan = Assert.Single(await input.PlanAsync(Spec("t"), CancellationToken.None));
        topic.Trim("t", 0, 6);

        Assert.Empty(await ReadAsync(input, plan.Split));
    }

    [Fact]
    public async Task A_missing_topic_fails_planning()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new TopicInput(new InMemoryTopic(), Settings).PlanAsync(Spec("nope"), CancellationToken.None));
        Assert.Contains("topic 'nope' does not exist", error.Message);
    }

    private static JobSpec Spec(string topic) => new("wordcount", new InputSpec(null, null, topic), null, 1, "{}");

    private static async Task<List<InputRecord>> ReadAsync(TopicInput input, InputSplit split)
    {
        var task = new RunMapTask("j", 0, 1, "wordcount", "{}", new InputSpec(null, null, ((TopicSplit)split).Topic), split, null, 1);
        var records = new List<InputRecord>();
        await foreach (var batch in input.ReadAsync(task, CancellationToken.None))
        {
            records.AddRange(batch);
        }

        return records;
    }

    /// <summary>A topic held in memory, for the input's planning and paging logic (the broker's own specs cover the real one).</summary>
    private sealed class InMemoryTopic : ITopicReader
    {
        private readonly Dictionary<string, List<List<TopicRecord>>> _topics = [];

        public InMemoryTopic(params (string Name, int[] Sizes)[] topics)
        {
            foreach (var (name, sizes) in topics)
            {
                _topics[name] = sizes.Select(_ => new List<TopicRecord>()).ToList();
                for (var p = 0; p < sizes.Length; p++)
                {
                    Append(name, p, sizes[p]);
                }
            }
        }

        public void Append(string topic, int partition, int count)
        {
            var log = _topics[topic][partition];
            for (var i = 0; i < count; i++)
            {
                var offset = log.Count == 0 ? 0 : log[^1].Offset + 1;
                log.Add(new TopicRecord(offset, null, Encoding.UTF8.GetBytes($"message {offset}"), DateTimeOffset.UnixEpoch));
            }
        }

        public void Trim(string topic, int partition, long before) => _topics[topic][partition].RemoveAll(r => r.Offset < before);

        public Task<int?> GetPartitionCountAsync(string topic, CancellationToken cancellationToken = default) =>
            Task.FromResult(_topics.TryGetValue(topic, out var partitions) ? partitions.Count : (int?)null);

        public Task<(long Start, long End)> GetOffsetsAsync(string topic, int partition, CancellationToken cancellationToken = default)
        {
            var log = _topics[topic][partition];
            return Task.FromResult(log.Count == 0 ? (0L, 0L) : (log[0].Offset, log[^1].Offset + 1));
        }

        public Task<IReadOnlyList<TopicRecord>> ReadAsync(string topic, int partition, long offset, int max, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<TopicRecord>>(_topics[topic][partition].Where(r => r.Offset >= offset).Take(Math.Min(max, 2)).ToList());
    }
}
