#nullable enable
using System.Globalization;
using System.Text.Json;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>
/// <c>sum-by</c>: input values are JSON objects; sums <c>parameters.valueField</c> per distinct value of
/// <c>parameters.field</c>. Sums are exact decimals (so the result does not depend on the order tasks finish).
/// A value that is neither a JSON number nor a string holding one is counted in <c>nonNumericValues</c> and skipped.
/// </summary>
public sealed class SumByJob : IMapReduceJob<decimal>
{
    /// <summary>The registered name.</summary>
    public const string Name = "sum-by";

    /// <summary>Counter of records whose value field is not a number.</summary>
    public const string NonNumericValues = "nonNumericValues";

    private string[] _field = [];
    private string[] _valueField = [];

    /// <inheritdoc />
    public void Initialize(JobParameters parameters)
    {
        _field = JsonFields.ParsePath(parameters, "field");
        _valueField = JsonFields.ParsePath(parameters, "valueField");
    }

    /// <inheritdoc />
    public void Map(InputRecord record, IMapOutput<decimal> output)
    {
        using var document = JsonFields.ParseObject(record, output);
        if (document is null)
        {
            return;
        }

        if (!JsonFields.TryGet(document.RootElement, _field, out var group) || !JsonFields.TryGet(document.RootElement, _valueField, out var value))
        {
            output.IncrementCounter(JsonFields.RecordsWithoutField);
            return;
        }

        if (TryNumber(value, out var number))
        {
            output.Emit(JsonFields.KeyOf(group), number);
        }
        else
        {
            output.IncrementCounter(NonNumericValues);
        }
    }

    /// <inheritdoc />
    public decimal Combine(decimal left, decimal right) => left + right;

    /// <inheritdoc />
    public string? Reduce(string key, IReadOnlyList<decimal> values)
    {
        var sum = 0m;
        foreach (var value in values)
        {
            sum += value;
        }

        return sum.ToString(CultureInfo.InvariantCulture);
    }

    private static bool TryNumber(JsonElement value, out decimal number)
    {
        number = 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDecimal(out number),
            JsonValueKind.String => decimal.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
    }
}
