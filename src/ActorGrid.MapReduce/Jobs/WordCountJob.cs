#nullable enable
using System.Globalization;

namespace ActorGrid.MapReduce.Jobs;

/// <summary><c>wordcount</c>: the number of occurrences of every word (see <see cref="Words"/>).</summary>
public sealed class WordCountJob : IMapReduceJob<long>
{
    /// <summary>The registered name.</summary>
    public const string Name = "wordcount";

    private static readonly WordAction<IMapOutput<long>> EmitOne = static (output, word) => output.Emit(word, 1);

    /// <inheritdoc />
    public void Map(InputRecord record, IMapOutput<long> output) => record.ForEachWord(output, EmitOne);

    /// <inheritdoc />
    public long Combine(long left, long right) => left + right;

    /// <inheritdoc />
    public string? Reduce(string key, IReadOnlyList<long> values) => Sum(values).ToString(CultureInfo.InvariantCulture);

    internal static long Sum(IReadOnlyList<long> values)
    {
        var sum = 0L;
        for (var i = 0; i < values.Count; i++)
        {
            sum += values[i];
        }

        return sum;
    }
}
