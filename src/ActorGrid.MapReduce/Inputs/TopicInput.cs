#nullable enable
using System.Globalization;
using System.Runtime.CompilerServices;
using ActorGrid.Contracts;
using ActorGrid.MapReduce.Jobs;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Inputs;

/// <summary>
/// The messages of a topic present when the job is planned: each partition's [start, end) offsets, cut into splits of
/// at most <see cref="MapReduceProtocol.Settings.TopicSplitRecords"/>. Fixing the offsets at planning makes retried tasks read the same records.
/// </summary>
internal sealed class TopicInput(ITopicReader reader, Settings settings) : IJobInput
{
    private const int PageSize = 1000;

    public async Task<IReadOnlyList<MapTaskPlan>> PlanAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        var topic = spec.Input.Topic!;
        var partitions = await reader.GetPartitionCountAsync(topic, cancellationToken)
                         ?? throw new InvalidOperationException($"topic '{topic}' does not exist");
        var ranges = await Task.WhenAll(Enumerable.Range(0, partitions).Select(p => reader.GetOffsetsAsync(topic, p, cancellationToken)));
        var plans = new List<MapTaskPlan>();
        for (var p = 0; p < partitions; p++)
        {
            for (var from = ranges[p].Start; from < ranges[p].End; from += settings.TopicSplitRecords)
            {
                plans.Add(new MapTaskPlan(new TopicSplit(topic, p, from, Math.Min(ranges[p].End, from + settings.TopicSplitRecords)), null));
            }
        }

        return plans;
    }

    public async IAsyncEnumerable<IReadOnlyList<InputRecord>> ReadAsync(RunMapTask task, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var split = (TopicSplit)task.Split;
        var offset = split.FromOffset;
        while (offset < split.ToOffset)
        {
            var max = (int)Math.Min(PageSize, split.ToOffset - offset);
            var records = await InputRetry.RunAsync(
                ct => reader.ReadAsync(split.Topic, split.Partition, offset, max, ct), settings.InputRetryDeadline, cancellationToken);
            var batch = records.Where(r => r.Offset >= offset && r.Offset < split.ToOffset)
                .Select(r => new InputRecord(string.Create(CultureInfo.InvariantCulture, $"{split.Topic}/{split.Partition}/{r.Offset}"), r.Value))
                .ToList();
            if (batch.Count == 0)
            {
                // Retention removed the rest of the range: there is nothing more to read.
                yield break;
            }

            yield return batch;
            offset = records.Max(r => r.Offset) + 1;
        }
    }

    public Task<bool> IsLocalAsync(InputSplit split, string node, CancellationToken cancellationToken) => Task.FromResult(false);
}
