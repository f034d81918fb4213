#nullable enable
using System.Globalization;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>
/// <c>count-by</c>: input values are JSON objects; counts the records per distinct value of
/// <c>parameters.field</c> (a property name or a dotted path). A string value is the key as is; numbers, booleans,
/// objects and arrays by their JSON text. Records that are not JSON objects, or lack the field, are counted in
/// <c>malformedRecords</c> and <c>recordsWithoutField</c>.
/// </summary>
public sealed class CountByJob : IMapReduceJob<long>
{
    /// <summary>The registered name.</summary>
    public const string Name = "count-by";

    private string[] _path = [];

    /// <inheritdoc />
    public void Initialize(JobParameters parameters) => _path = JsonFields.ParsePath(parameters, "field");

    /// <inheritdoc />
    public void Map(InputRecord record, IMapOutput<long> output)
    {
        using var document = JsonFields.ParseObject(record, output);
        if (document is null)
        {
            return;
        }

        if (JsonFields.TryGet(document.RootElement, _path, out var value))
        {
            output.Emit(JsonFields.KeyOf(value), 1);
        }
        else
        {
            output.IncrementCounter(JsonFields.RecordsWithoutField);
        }
    }

    /// <inheritdoc />
    public long Combine(long left, long right) => left + right;

    /// <inheritdoc />
    public string? Reduce(string key, IReadOnlyList<long> values) => WordCountJob.Sum(values).ToString(CultureInfo.InvariantCulture);
}
