#nullable enable
using ActorGrid.Contracts;
using ActorGrid.Entities;
using Akka.Actor;
using Akka.Hosting;
using static ActorGrid.KeyValue.KvProtocol;
using Settings = ActorGrid.KeyValue.KvProtocol.Settings;

namespace ActorGrid.KeyValue;

/// <summary>
/// <see cref="IKeyValueStore"/> over the KV partitions, for other roles (MapReduce) and embedding services: the
/// same partitions, versions and durability as the HTTP API, without HTTP.
/// </summary>
public sealed class KvStore(ActorSystem system, Settings settings) : IKeyValueStore
{
    private readonly string[] _entityIds = [.. Enumerable.Range(0, settings.Partitions).Select(KvKeys.EntityId)];
    private readonly CommittedStates<KvPartitionState> _local = CommittedStates<KvPartitionState>.For(system, KvPartition.Kind);
    private IActorRef? _region;

    private IActorRef Region => _region ??= ActorRegistry.For(system).Get<KvPartitionRegion>();

    /// <summary>The settings in force.</summary>
    public Settings Settings => settings;

    /// <inheritdoc />
    public int Partitions => settings.Partitions;

    /// <inheritdoc />
    public int PartitionOf(string key) => KvKeys.PartitionOf(key, settings.Partitions);

    /// <inheritdoc />
    public async Task<string> LocateAsync(int partition, CancellationToken cancellationToken = default)
    {
        var stats = await Region.Ask<PartitionStatsResult>(new GetPartitionStats(KvKeys.EntityId(Check(partition))), settings.AskTimeout, cancellationToken);
        return stats.Node;
    }

    /// <inheritdoc />
    public async Task<Contracts.KvPage> ScanPartitionAsync(int partition, string prefix, string? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var result = await Region.Ask<ScanResult>(
            new Scan(KvKeys.EntityId(Check(partition)), prefix, after, limit, settings.ChunkBytes), settings.AskTimeout, cancellationToken);
        var items = result.Items.Select(e => new KvEntry(e.Key, e.Value!, e.Version)).ToList();
        return new Contracts.KvPage(items, result.More && items.Count > 0 ? items[^1].Key : null);
    }

    /// <inheritdoc />
    public async Task PutManyAsync(IReadOnlyList<KvEntry> entries, CancellationToken cancellationToken = default)
    {
        // All at once: each partition group-commits what reaches it together.
        var region = Region;
        var replies = await Task.WhenAll(entries.Select(e => region.Ask<WriteResult>(
            new Put(KvKeys.EntityIdFor(e.Key, settings.Partitions), e.Key, e.Value, Precondition.None, null), settings.AskTimeout, cancellationToken)));
        var failed = replies.Select((r, i) => (Reply: r, Entry: entries[i])).FirstOrDefault(x => x.Reply.Status != WriteStatus.Written);
        if (failed.Entry is not null)
        {
            throw new InvalidOperationException($"writing key '{failed.Entry.Key}' failed: {failed.Reply.Status} {failed.Reply.Error}");
        }
    }

    /// <inheritdoc />
    public async Task<KvEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var result = await ReadAsync(key, cancellationToken);
        return result.Found ? new KvEntry(key, result.Value!, result.Version) : null;
    }

    /// <summary>Reads <paramref name="key"/> from its owning partition (linearizable): value, version and expiry.</summary>
    /// <exception cref="AskTimeoutException">when the owner does not answer within the ask timeout.</exception>
    public Task<GetResult> ReadAsync(string key, CancellationToken cancellationToken = default) =>
        TryReadLocally(key, out var local)
            ? Task.FromResult(local)
            : Region.Ask<GetResult>(new Get(EntityIdOf(key), key), settings.AskTimeout, cancellationToken);

    /// <summary>
    /// Reads <paramref name="key"/> straight from its partition's committed state when the partition runs on this node
    /// and may serve (<see cref="CommittedStates{TState}"/>: lease-fenced, linearizable like a read through the
    /// partition); false when the read must go through the shard region.
    /// </summary>
    public bool TryReadLocally(string key, out GetResult result)
    {
        if (_local.TryRead(EntityIdOf(key), out var state))
        {
            result = state.Read(key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return true;
        }

        result = GetResult.Absent;
        return false;
    }

    /// <summary>
    /// Runs <paramref name="ops"/> as one atomic command in the partition that owns them all (keys sharing a hash
    /// tag share one), after checking <paramref name="watches"/>.
    /// </summary>
    /// <exception cref="ArgumentException">when the keys are not all in one partition.</exception>
    public Task<ExecuteResult> ExecuteAsync(IReadOnlyList<KvOp> ops, IReadOnlyList<WatchedKey>? watches = null, CancellationToken cancellationToken = default)
    {
        var partition = CommonPartition(ops.Select(o => o.Key).Concat(watches?.Select(w => w.Key) ?? []))
                        ?? throw new ArgumentException("the keys of one command must share a partition", nameof(ops));
        return Region.Ask<ExecuteResult>(new Execute(_entityIds[partition], [.. ops], watches is null ? null : [.. watches]), settings.AskTimeout, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="ops"/> grouped by partition: atomic within each partition, concurrently across them.
    /// Results come back in the order of <paramref name="ops"/>; a partition whose journal refused the write reports
    /// each of its ops as an error.
    /// </summary>
    public async Task<KvOpResult[]> ExecuteEachAsync(IReadOnlyList<KvOp> ops, CancellationToken cancellationToken = default)
    {
        var results = new KvOpResult[ops.Count];
        var groups = Enumerable.Range(0, ops.Count).GroupBy(i => PartitionOf(ops[i].Key)).ToList();
        await Task.WhenAll(groups.Select(async group =>
        {
            var indexes = group.ToArray();
            var reply = await Region.Ask<ExecuteResult>(new Execute(_entityIds[group.Key], [.. indexes.Select(i => ops[i])]), settings.AskTimeout, cancellationToken);
            for (var k = 0; k < indexes.Length; k++)
            {
                results[indexes[k]] = reply.Status == ExecuteStatus.Done ? reply.Results[k] : new KvOpResult(KvOpOutcome.Error, Error: reply.Error);
            }
        }));
        return results;
    }

    /// <summary>The partition all <paramref name="keys"/> live in, or null when they span several (none: partition 0).</summary>
    public int? CommonPartition(IEnumerable<string> keys)
    {
        int? partition = null;
        foreach (var key in keys)
        {
            var p = PartitionOf(key);
            if (partition is { } q && q != p)
            {
                return null;
            }

            partition = p;
        }

        return partition ?? 0;
    }

    private string EntityIdOf(string key) => _entityIds[PartitionOf(key)];

    private int Check(int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, settings.Partitions);
        return partition;
    }
}
