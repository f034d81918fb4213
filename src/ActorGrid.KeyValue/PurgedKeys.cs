#nullable enable
using ActorGrid.Collections;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue;

/// <summary>
/// The keys compaction purged from a partition, kept in a fixed, small form so that a key written again continues
/// its version count: <paramref name="VersionFloor"/> is the highest version any purged key had, and
/// <paramref name="Filter"/> a Bloom filter of the purged keys. A key the filter may hold is written again at
/// <c>VersionFloor + 1</c> — above any version it ever had, so versions only grow and a compare-and-set against an
/// old version can never succeed; a key it surely does not hold was never purged and starts at 1. A false positive
/// (about 1% at <see cref="FilterBytes"/> with 13,000 purged keys per partition, more beyond) only makes a fresh
/// key start above 1.
/// </summary>
/// <param name="VersionFloor">The highest version of any purged key (0: none purged).</param>
/// <param name="Filter">The Bloom filter, <see cref="FilterBytes"/> long, or null when nothing was purged.</param>
public sealed record PurgedKeys(long VersionFloor, byte[]? Filter)
{
    /// <summary>Size of the filter.</summary>
    public const int FilterBytes = 16 * 1024;

    /// <summary>Nothing purged.</summary>
    public static readonly PurgedKeys None = new(0, null);

    /// <summary>Bytes held.</summary>
    public long Bytes => Filter?.Length ?? 0;

    /// <summary>The version <paramref name="key"/> had when purged, as far as is known: the floor, or 0 if never purged.</summary>
    public long LastVersionOf(string key) => KeyFilter.MayContain(Filter, key) ? VersionFloor : 0;

    /// <summary>These, with <paramref name="entries"/> purged too.</summary>
    public PurgedKeys Add(IReadOnlyCollection<Entry> entries) =>
        new(Math.Max(VersionFloor, entries.Max(e => e.Version)), KeyFilter.Add(Filter, FilterBytes, entries.Select(e => e.Key)));
}
