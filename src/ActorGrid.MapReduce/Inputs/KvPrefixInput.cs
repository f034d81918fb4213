#nullable enable
using System.Runtime.CompilerServices;
using ActorGrid.Contracts;
using ActorGrid.MapReduce.Jobs;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Inputs;

/// <summary>
/// Every live KV key with a prefix. The partitions are grouped by the node that owns them into about
/// <see cref="MapReduceProtocol.Settings.KvSplitsPerNode"/> map tasks per node; a task prefers its owner, whose worker
/// then scans the partitions through its local shard region (an in-process hop).
/// </summary>
internal sealed class KvPrefixInput(IKeyValueStore store, Settings settings) : IJobInput
{
    private const int PageSize = 1000;

    public async Task<IReadOnlyList<MapTaskPlan>> PlanAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        var owners = await Task.WhenAll(Enumerable.Range(0, store.Partitions).Select(async p =>
        {
            try
            {
                return await store.LocateAsync(p, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Unknown owner right now (the partition is moving): any node may run the task.
                return null;
            }
        }));
        return Group(owners, settings.KvSplitsPerNode);
    }

    /// <summary>Cuts each owner's partitions (in order) into about <paramref name="splitsPerNode"/> tasks.</summary>
    internal static IReadOnlyList<MapTaskPlan> Group(IReadOnlyList<string?> owners, int splitsPerNode) =>
        owners.Select((owner, partition) => (Owner: owner, Partition: partition))
            .GroupBy(p => p.Owner)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .SelectMany(g =>
            {
                var partitions = g.Select(p => p.Partition).Order().ToArray();
                var size = (int)Math.Ceiling(partitions.Length / (double)Math.Max(1, splitsPerNode));
                return partitions.Chunk(size).Select(chunk => new MapTaskPlan(new KvPartitionsSplit(chunk), g.Key));
            })
            .ToList();

    public async IAsyncEnumerable<IReadOnlyList<InputRecord>> ReadAsync(RunMapTask task, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = task.Input.KvPrefix ?? "";
        foreach (var partition in ((KvPartitionsSplit)task.Split).Partitions)
        {
            string? after = null;
            do
            {
                var page = await InputRetry.RunAsync(
                    ct => store.ScanPartitionAsync(partition, prefix, after, PageSize, ct), settings.InputRetryDeadline, cancellationToken);
                if (page.Items.Count > 0)
                {
                    yield return page.Items.Select(e => new InputRecord(e.Key, e.Value)).ToList();
                }

                after = page.Next;
            }
            while (after is not null);
        }
    }

    public async Task<bool> IsLocalAsync(InputSplit split, string node, CancellationToken cancellationToken)
    {
        if (split is not KvPartitionsSplit kv)
        {
            return false;
        }

        var owners = await Task.WhenAll(kv.Partitions.Select(p => store.LocateAsync(p, cancellationToken)));
        return owners.All(owner => owner == node);
    }
}
