#nullable enable
namespace ActorGrid.Contracts;

/// <summary>
/// What other roles (MapReduce) and embedding services may use of the key-value role without referencing it.
/// The <c>kv</c> role registers the implementation in DI; it is absent when the grid has no KV role.
/// </summary>
public interface IKeyValueStore
{
    /// <summary>The fixed number of KV partitions.</summary>
    int Partitions { get; }

    /// <summary>The partition <paramref name="key"/> lives in.</summary>
    int PartitionOf(string key);

    /// <summary>The cluster address (<c>akka.tcp://...</c>) of the node that currently owns <paramref name="partition"/>.</summary>
    Task<string> LocateAsync(int partition, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of <paramref name="partition"/>'s live keys starting with <paramref name="prefix"/>, after
    /// <paramref name="after"/>, in key order (strongly consistent, from the owner).
    /// </summary>
    Task<KvPage> ScanPartitionAsync(int partition, string prefix, string? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>Unconditionally writes <paramref name="entries"/>; returns once all are durable.</summary>
    Task PutManyAsync(IReadOnlyList<KvEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>Reads one key strongly; null when absent.</summary>
    Task<KvEntry?> GetAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>A key with its value (and version, when read).</summary>
public sealed record KvEntry(string Key, byte[] Value, long Version = 0);

/// <summary>A page of a partition scan; <see cref="Next"/> is the key to continue after, or null at the end.</summary>
public sealed record KvPage(IReadOnlyList<KvEntry> Items, string? Next);
