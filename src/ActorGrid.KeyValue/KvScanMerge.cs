#nullable enable
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue;

/// <summary>One page of a prefix scan across all partitions.</summary>
/// <param name="Items">Live entries in ordinal key order.</param>
/// <param name="Next">The cursor (<c>after</c>) of the next page, or null when the scan is complete.</param>
public sealed record KvScanPage(IReadOnlyList<Entry> Items, string? Next);

/// <summary>Merges the partitions' pages of a scan (the gather half of scatter-gather).</summary>
public static class KvScanMerge
{
    /// <summary>
    /// Merges per-partition pages into one page of at most <paramref name="limit"/> items and, past the first,
    /// <paramref name="maxBytes"/> of values. A partition that stopped early (<see cref="ScanResult.More"/>) may
    /// hold keys after its last item that are not in this round, so the page never goes past the smallest such
    /// last key: no key is skipped and none is returned twice.
    /// </summary>
    public static KvScanPage Merge(IEnumerable<ScanResult> partitions, int limit, int maxBytes)
    {
        string? cut = null;
        var all = new List<Entry>();
        foreach (var page in partitions)
        {
            all.AddRange(page.Items);
            if (page.More && page.Items.Length > 0)
            {
                var last = page.Items[^1].Key;
                if (cut is null || string.CompareOrdinal(last, cut) < 0)
                {
                    cut = last;
                }
            }
        }

        var candidates = all
            .Where(e => cut is null || string.CompareOrdinal(e.Key, cut) <= 0)
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ToList();

        var items = new List<Entry>();
        var bytes = 0L;
        foreach (var entry in candidates)
        {
            if (items.Count == limit || (items.Count > 0 && bytes + entry.Value!.Length > maxBytes))
            {
                break;
            }

            items.Add(entry);
            bytes += entry.Value!.Length;
        }

        var complete = cut is null && items.Count == candidates.Count;
        return new KvScanPage(items, complete || items.Count == 0 ? null : items[^1].Key);
    }
}
