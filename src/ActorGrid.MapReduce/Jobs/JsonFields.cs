#nullable enable
using System.Text.Json;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>Reads a (dotted) field of a JSON record value, for <c>count-by</c> and <c>sum-by</c>.</summary>
internal static class JsonFields
{
    /// <summary>Counter of records whose value is not a JSON object.</summary>
    public const string MalformedRecords = "malformedRecords";

    /// <summary>Counter of records without the field (or with null there).</summary>
    public const string RecordsWithoutField = "recordsWithoutField";

    public static string[] ParsePath(JobParameters parameters, string name)
    {
        var field = parameters.GetRequiredString(name);
        var path = field.Split('.');
        return path.Any(string.IsNullOrEmpty)
            ? throw new InvalidJobParametersException($"parameters.{name} '{field}' is not a field name or a dotted path such as 'a.b'")
            : path;
    }

    /// <summary>Parses the record as a JSON object; counts and returns null when it is not one.</summary>
    public static JsonDocument? ParseObject<T>(InputRecord record, IMapOutput<T> output)
    {
        try
        {
            var document = JsonDocument.Parse(record.Value);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
        }
        catch (JsonException)
        {
        }

        output.IncrementCounter(MalformedRecords);
        return null;
    }

    public static bool TryGet(JsonElement root, string[] path, out JsonElement value)
    {
        value = root;
        foreach (var name in path)
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(name, out value))
            {
                return false;
            }
        }

        return value.ValueKind != JsonValueKind.Null;
    }

    /// <summary>The grouping key of a field value: a string as is, anything else as its JSON text.</summary>
    public static string KeyOf(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
}
