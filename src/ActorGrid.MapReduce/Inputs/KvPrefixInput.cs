#nullable enable
using System.Runtime.CompilerServices;
using ActorGrid.Contracts;
using ActorGrid.MapReduce.Jobs;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Inputs;

/// <summary>
/// Every live KV key with a prefix: one map task per KV partition, preferring the node that owns the partition,
/// whose worker then scans it through its local shard region (an in-process hop).
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
        return owners.Select((owner, p) => new MapTaskPlan(new KvPartitionSplit(p), owner)).ToList();
    }

    public async IAsyncEnumerable<IReadOnlyList<InputRecord>> ReadAsync(RunMapTask task, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var partition = ((KvPartitionSplit)task.Split).Partition;
        var prefix = task.Input.KvPrefix ?? "";
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

    public async Task<bool> IsLocalAsync(InputSplit split, string node, CancellationToken cancellationToken) =>
        split is KvPartitionSplit kv && await store.LocateAsync(kv.Partition, cancellationToken) == node;
}
