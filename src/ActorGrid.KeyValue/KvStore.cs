#nullable enable
using ActorGrid.Contracts;
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
    private IActorRef Region => ActorRegistry.For(system).Get<KvPartitionRegion>();

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
        var result = await Region.Ask<GetResult>(new Get(KvKeys.EntityIdFor(key, settings.Partitions), key), settings.AskTimeout, cancellationToken);
        return result.Found ? new KvEntry(key, result.Value!, result.Version) : null;
    }

    private int Check(int partition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, settings.Partitions);
        return partition;
    }
}
