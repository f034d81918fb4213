#nullable enable
using System.Text.Json;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>
/// <c>inverted-index</c>: for every word (see <see cref="Words"/>), the sorted (ordinal) distinct keys of the input
/// records it occurs in, as a JSON array of strings.
/// </summary>
public sealed class InvertedIndexJob : IMapReduceJob<List<string>>
{
    /// <summary>The registered name.</summary>
    public const string Name = "inverted-index";

    private readonly HashSet<string> _recordWords = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public void Map(InputRecord record, IMapOutput<List<string>> output)
    {
        _recordWords.Clear();
        var lookup = _recordWords.GetAlternateLookup<ReadOnlySpan<char>>();
        record.ForEachWord(lookup, static (words, word) => words.Add(word));
        foreach (var word in _recordWords)
        {
            output.Emit(word, [record.Key]);
        }
    }

    /// <inheritdoc />
    public List<string> Combine(List<string> left, List<string> right)
    {
        // Records usually arrive in key order, so the common case appends.
        if (left.Count == 0 || (right.Count > 0 && string.CompareOrdinal(left[^1], right[0]) < 0))
        {
            left.AddRange(right);
            return left;
        }

        var merged = new List<string>(left.Count + right.Count);
        int i = 0, j = 0;
        while (i < left.Count || j < right.Count)
        {
            var next = j >= right.Count || (i < left.Count && string.CompareOrdinal(left[i], right[j]) <= 0) ? left[i++] : right[j++];
            if (merged.Count == 0 || merged[^1] != next)
            {
                merged.Add(next);
            }
        }

        return merged;
    }

    /// <inheritdoc />
    public string? Reduce(string key, IReadOnlyList<List<string>> values)
    {
        var all = values.Count == 1 ? values[0] : values.Aggregate(new List<string>(), Combine);
        return JsonSerializer.Serialize(all);
    }
}
