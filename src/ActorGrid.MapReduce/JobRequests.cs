#nullable enable
using System.Text;
using System.Text.Json;
using ActorGrid.MapReduce.Jobs;
using ActorGrid.Naming;
using Microsoft.AspNetCore.Http;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>A <c>POST /jobs</c> body that cannot run; <see cref="Status"/> is 400 or 413.</summary>
internal sealed class JobRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Reads and checks a <c>POST /jobs</c> body completely before anything runs: the type is known, the parameters are
/// valid for it, exactly one input is given and the roles it needs are there, the reducer count is sane.
/// </summary>
internal static class JobRequests
{
    private static readonly HashSet<string> Properties = ["jobId", "type", "input", "output", "reducers", "parameters"];

    /// <summary>Whether <paramref name="jobId"/> can name a job (1-64 of letters, digits, '-', '_').</summary>
    public static bool IsValidJobId(string jobId) => GridNames.JobId.IsValid(jobId);

    /// <summary>The job a body describes, with the id it asks for (null: the server picks one).</summary>
    /// <exception cref="JobRequestException">when the body is not a job this grid can run.</exception>
    public static (JobSpec Spec, string? JobId) Parse(JsonElement body, MapReduceJobs jobs, Settings settings, bool hasKeyValue, bool hasBroker)
    {
        try
        {
            return ParseObject(body, jobs, settings, hasKeyValue, hasBroker);
        }
        catch (InvalidOperationException e) when (e.Source?.StartsWith("System.Text.Json", StringComparison.Ordinal) == true)
        {
            // JsonElement.GetString throws this (not a JsonException; Source "System.Text.Json.Rethrowable") for an
            // escaped lone surrogate such as "\ud800".
            throw Bad("a string in the body is not valid Unicode (an unpaired surrogate escape such as \\ud800)");
        }
    }

    private static (JobSpec Spec, string? JobId) ParseObject(JsonElement body, MapReduceJobs jobs, Settings settings, bool hasKeyValue, bool hasBroker)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Bad("the body must be a JSON object such as {\"type\":\"wordcount\",\"input\":{\"text\":\"...\"}}");
        }

        foreach (var property in body.EnumerateObject())
        {
            if (!Properties.Contains(property.Name))
            {
                throw Bad($"unknown property '{property.Name}' (expected: {string.Join(", ", Properties)})");
            }
        }

        string? jobId = null;
        if (body.TryGetProperty("jobId", out var id) && id.ValueKind != JsonValueKind.Null)
        {
            jobId = id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            if (jobId is null || !IsValidJobId(jobId))
            {
                throw Bad("jobId must be 1-64 letters, digits, '-' or '_'");
            }
        }

        var type = RequiredString(body, "type");
        if (!jobs.TryGet(type, out var definition))
        {
            throw Bad($"unknown job type '{type}' (known: {string.Join(", ", jobs.Names)})");
        }

        var input = ParseInput(body, settings, hasKeyValue, hasBroker);
        var outputPrefix = ParseOutput(body, hasKeyValue);
        if (outputPrefix is not null && input.KvPrefix is { } inputPrefix
            && (outputPrefix.StartsWith(inputPrefix, StringComparison.Ordinal) || inputPrefix.StartsWith(outputPrefix, StringComparison.Ordinal)))
        {
            throw Bad($"output.kvPrefix '{outputPrefix}' overlaps input.kvPrefix '{inputPrefix}': the output would be read as input by a later run");
        }

        var reducers = settings.DefaultReducers;
        if (body.TryGetProperty("reducers", out var r) && r.ValueKind != JsonValueKind.Null)
        {
            if (r.ValueKind != JsonValueKind.Number || !r.TryGetInt32(out reducers) || reducers < 1 || reducers > settings.MaxReducers)
            {
                throw Bad($"reducers must be an integer from 1 to {settings.MaxReducers}");
            }
        }

        var parameters = "{}";
        if (body.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.Object)
            {
                throw Bad("parameters must be a JSON object");
            }

            parameters = p.GetRawText();
        }

        try
        {
            definition.Instantiate(JobParameters.Parse(parameters));
        }
        catch (InvalidJobParametersException e)
        {
            throw Bad($"{type}: {e.Message}");
        }

        return (new JobSpec(type, input, outputPrefix, reducers, parameters), jobId);
    }

    private static InputSpec ParseInput(JsonElement body, Settings settings, bool hasKeyValue, bool hasBroker)
    {
        if (!body.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Object)
        {
            throw Bad("input is required: one of {\"text\":\"...\"}, {\"kvPrefix\":\"docs/\"}, {\"topic\":\"t\"}");
        }

        var given = input.EnumerateObject().Where(x => x.Value.ValueKind != JsonValueKind.Null).ToList();
        if (given.Count != 1 || given[0].Name is not ("text" or "kvPrefix" or "topic"))
        {
            throw Bad("input must have exactly one of text, kvPrefix, topic");
        }

        var (kind, value) = (given[0].Name, given[0].Value);
        if (value.ValueKind != JsonValueKind.String)
        {
            throw Bad($"input.{kind} must be a string");
        }

        var text = value.GetString()!;
        switch (kind)
        {
            case "text":
                if (text.Length == 0)
                {
                    throw Bad("input.text is empty: there is nothing to run the job on");
                }

                if (text.Length > settings.MaxTextChars)
                {
                    throw new JobRequestException(StatusCodes.Status413PayloadTooLarge,
                        $"input.text has {text.Length} characters; inline text may have at most {settings.MaxTextChars} (store larger input in the KV store and use kvPrefix)");
                }

                return new InputSpec(text, null, null);
            case "kvPrefix":
                if (!hasKeyValue)
                {
                    throw Bad("input.kvPrefix needs the kv role, which this grid does not run");
                }

                CheckPrefix(text, "input.kvPrefix");
                return new InputSpec(null, text, null);
            default:
                if (!hasBroker)
                {
                    throw Bad("input.topic needs the broker role, which this grid does not run");
                }

                if (!GridNames.Broker.IsValid(text))
                {
                    throw Bad("input.topic must be 1-200 of [A-Za-z0-9._-]");
                }

                return new InputSpec(null, null, text);
        }
    }

    private static string? ParseOutput(JsonElement body, bool hasKeyValue)
    {
        if (!body.TryGetProperty("output", out var output) || output.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (output.ValueKind != JsonValueKind.Object || output.EnumerateObject().Any(p => p.Name != "kvPrefix"))
        {
            throw Bad("output must be {\"kvPrefix\":\"out/\"} (or absent: the result is then only readable from GET /jobs/{id}/result)");
        }

        if (!output.TryGetProperty("kvPrefix", out var prefix) || prefix.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (prefix.ValueKind != JsonValueKind.String)
        {
            throw Bad("output.kvPrefix must be a string");
        }

        if (!hasKeyValue)
        {
            throw Bad("output.kvPrefix needs the kv role, which this grid does not run");
        }

        var text = prefix.GetString()!;
        CheckPrefix(text, "output.kvPrefix");
        return text;
    }

    private static void CheckPrefix(string prefix, string name)
    {
        if (prefix.Length == 0)
        {
            throw Bad($"{name} must not be empty");
        }

        if (Encoding.UTF8.GetByteCount(prefix) > 1000 || prefix.Any(char.IsControl))
        {
            throw Bad($"{name} must be at most 1000 UTF-8 bytes without control characters");
        }
    }

    private static string RequiredString(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw Bad($"{name} is required (a non-empty string)");

    private static JobRequestException Bad(string message) => new(StatusCodes.Status400BadRequest, message);
}
