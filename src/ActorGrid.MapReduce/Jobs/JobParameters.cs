#nullable enable
using System.Globalization;
using System.Text.Json;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>
/// A job's <c>parameters</c> object. The getters throw <see cref="InvalidJobParametersException"/> with a message
/// naming the parameter, which the HTTP API turns into a 400 when the job is submitted.
/// </summary>
public sealed class JobParameters
{
    private readonly JsonElement _root;

    private JobParameters(JsonElement root, string json)
    {
        _root = root;
        Json = json;
    }

    /// <summary>No parameters.</summary>
    public static JobParameters Empty { get; } = Parse("{}");

    /// <summary>The parameters as a JSON object.</summary>
    public string Json { get; }

    /// <summary>The parameters as a JSON element (an object).</summary>
    public JsonElement Root => _root;

    /// <summary>Parses a parameters object.</summary>
    /// <exception cref="InvalidJobParametersException">when <paramref name="json"/> is not a JSON object.</exception>
    public static JobParameters Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidJobParametersException("parameters must be a JSON object");
            }

            return new JobParameters(document.RootElement.Clone(), json);
        }
        catch (JsonException e)
        {
            throw new InvalidJobParametersException("parameters are not valid JSON: " + e.Message);
        }
    }

    /// <summary>Whether <paramref name="name"/> is present (and not null).</summary>
    public bool Has(string name) => _root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>A string parameter, or <paramref name="fallback"/> when absent.</summary>
    public string? GetString(string name, string? fallback = null)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new InvalidJobParametersException($"parameters.{name} must be a string");
    }

    /// <summary>A required, non-empty string parameter.</summary>
    public string GetRequiredString(string name)
    {
        var value = GetString(name);
        return string.IsNullOrEmpty(value)
            ? throw new InvalidJobParametersException($"parameters.{name} is required (a non-empty string)")
            : value;
    }

    /// <summary>A boolean parameter, or <paramref name="fallback"/> when absent.</summary>
    public bool GetBoolean(string name, bool fallback = false)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidJobParametersException($"parameters.{name} must be true or false"),
        };
    }

    /// <summary>An integer parameter within [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="fallback"/> when absent.</summary>
    public int GetInt32(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
        {
            throw new InvalidJobParametersException(string.Create(
                CultureInfo.InvariantCulture, $"parameters.{name} must be an integer from {min} to {max}"));
        }

        return number;
    }

    /// <inheritdoc />
    public override string ToString() => Json;
}
