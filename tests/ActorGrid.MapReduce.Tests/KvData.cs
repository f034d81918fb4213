using System.Globalization;
using System.Text;
using ActorGrid.Contracts;
using ActorGrid.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Documents stored in the real KV role of a test grid (through its public contract).</summary>
internal static class KvData
{
    /// <summary>Stores <paramref name="documents"/> as <c>{prefix}{index:D5}</c>; returns the key → text map.</summary>
    public static async Task<Dictionary<string, string>> StoreAsync(GridTestNode node, string prefix, IReadOnlyList<string> documents)
    {
        var store = node.Services.GetRequiredService<IKeyValueStore>();
        var keyed = documents.Select((d, i) => (Key: prefix + i.ToString("D5", CultureInfo.InvariantCulture), Text: d)).ToList();
        foreach (var batch in keyed.Chunk(100))
        {
            // Right after the cluster forms, partitions are still being placed: a write may time out and is retried
            // (unconditional puts of the same value are idempotent in content).
            var entries = batch.Select(d => new KvEntry(d.Key, Encoding.UTF8.GetBytes(d.Text))).ToList();
            await Eventually.AwaitAsync(async () =>
            {
                await store.PutManyAsync(entries);
                return null;
            }, TimeSpan.FromSeconds(60), $"{entries.Count} documents to be stored");
        }

        return keyed.ToDictionary(d => d.Key, d => d.Text, StringComparer.Ordinal);
    }

    /// <summary>Every key under <paramref name="prefix"/> with its value as text, read back through the KV store.</summary>
    public static async Task<Dictionary<string, string>> ReadAsync(GridTestNode node, string prefix)
    {
        var store = node.Services.GetRequiredService<IKeyValueStore>();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var p = 0; p < store.Partitions; p++)
        {
            string? after = null;
            do
            {
                var page = await store.ScanPartitionAsync(p, prefix, after, 1000);
                foreach (var entry in page.Items)
                {
                    result.Add(entry.Key[prefix.Length..], Encoding.UTF8.GetString(entry.Value));
                }

                after = page.Next;
            }
            while (after is not null);
        }

        return result;
    }
}
