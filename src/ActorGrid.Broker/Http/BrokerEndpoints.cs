#nullable enable
using System.Globalization;
using System.Text.Json;
using ActorGrid.Broker.Gateway;
using ActorGrid.Http;
using ActorGrid.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Http;

/// <summary>The broker's HTTP API (SPEC §5): topics, produce, fetch, consumer groups and the push stream.</summary>
internal static class BrokerEndpoints
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapBrokerEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // The gateway needs the actor system, which exists only once the host has started: resolve it on first use.
        var gateway = new Lazy<BrokerGateway>(() => endpoints.ServiceProvider.GetRequiredService<BrokerGateway>());

        endpoints.MapPut("/topics/{topic}", (string topic, HttpRequest request, CancellationToken ct) => Handle(async () =>
        {
            var body = await ReadBodyAsync<CreateTopicRequest>(request, ct);
            if (body.Partitions is null)
            {
                throw BrokerRequestException.BadRequest("partitions is required");
            }

            var g = gateway.Value;
            var result = await g.CreateTopicAsync(new TopicConfig(topic, body.Partitions.Value, body.RetentionMessages, body.RetentionSeconds), ct);
            if (result.Outcome == TopicCreateOutcome.Conflict)
            {
                var c = result.Config;
                return GridResults.Conflict(
                    $"topic '{topic}' exists with partitions={c.Partitions}, retentionMessages={Show(c.RetentionMessages)}, retentionSeconds={Show(c.RetentionSeconds)}");
            }

            var described = TopicJson.From(await g.DescribeTopicAsync(result.Config, ct));
            return result.Outcome == TopicCreateOutcome.Created
                ? Results.Created($"/topics/{topic}", described)
                : Results.Ok(described);
        })).RequireGridAccess(GridAccess.Admin, GridResource.Topic, "topic");

        endpoints.MapDelete("/topics/{topic}", (string topic, CancellationToken ct) => Handle(async () =>
        {
            await gateway.Value.DeleteTopicAsync(topic, ct);
            return Results.NoContent();
        })).RequireGridAccess(GridAccess.Admin, GridResource.Topic, "topic");

        // Lists the topics the caller may read.
        endpoints.MapGet("/topics", (HttpContext http, CancellationToken ct) => Handle(async () =>
            Results.Ok(new TopicListJson([.. (await gateway.Value.ListTopicsAsync(ct))
                .Where(t => http.Caller().Can(GridAccess.Read, GridResource.Topic, t.Config.Name)).Select(TopicJson.From)]))));

        endpoints.MapGet("/topics/{topic}", (string topic, CancellationToken ct) => Handle(async () =>
        {
            var g = gateway.Value;
            return Results.Ok(TopicJson.From(await g.DescribeTopicAsync(await g.GetTopicAsync(topic, ct), ct)));
        })).RequireGridAccess(GridAccess.Read, GridResource.Topic, "topic");

        endpoints.MapPost("/topics/{topic}/messages", (string topic, HttpRequest request, CancellationToken ct) => Handle(async () =>
        {
            var body = await ReadBodyAsync<ProduceRequest>(request, ct);
            var records = (body.Records ?? []).Select((r, i) => new ProduceRecord(r?.Key, DecodeValue(r, i))).ToList();
            var produced = await gateway.Value.ProduceAsync(topic, body.ProducerId, body.Sequence, records, ct);
            return Results.Ok(new ProduceResponse([.. produced.Select(p => new ProducedRecordJson(p.Partition, p.Offset))]));
        })).RequireGridAccess(GridAccess.Write, GridResource.Topic, "topic");

        endpoints.MapGet("/topics/{topic}/partitions/{partition}/messages", (string topic, string partition, HttpRequest request, CancellationToken ct) => Handle(async () =>
        {
            var p = ParseInt(partition, "partition") ?? 0;
            var offset = ParseLong(request.Query["offset"], "offset");
            var max = ParseInt(request.Query["max"], "max") ?? 100;
            var waitMs = ParseInt(request.Query["waitMs"], "waitMs") ?? 0;
            var page = await gateway.Value.FetchAsync(topic, p, offset, max, waitMs, ct);
            return Results.Ok(new FetchResponse([.. page.Records.Select(RecordJson.From)], page.NextOffset, page.StartOffset, page.EndOffset));
        })).RequireGridAccess(GridAccess.Read, GridResource.Topic, "topic");

        endpoints.MapPost("/groups/{group}/join", (string group, HttpContext http, CancellationToken ct) => Handle(async () =>
        {
            var body = await ReadBodyAsync<JoinRequest>(http.Request, ct);
            if (DenyTopics(http, body.Topics) is { } denied)
            {
                return denied;
            }

            var fromLatest = body.AutoOffsetReset switch
            {
                null or "earliest" => false,
                "latest" => true,
                var other => throw BrokerRequestException.BadRequest($"autoOffsetReset must be earliest or latest (got '{other}')"),
            };
            var joined = await gateway.Value.JoinAsync(group, body.Topics ?? [], body.SessionTimeoutMs, body.MemberId, http.Caller(), ct, fromLatest);
            return Results.Ok(new JoinResponse(joined.MemberId, joined.Generation, Assignments(joined.Assignments)));
        })).RequireGridAccess(GridAccess.Write, GridResource.Group, "group");

        endpoints.MapPost("/groups/{group}/poll", (string group, HttpContext http, CancellationToken ct) => Handle(async () =>
        {
            var body = await ReadBodyAsync<PollRequest>(http.Request, ct);
            var g = gateway.Value;
            var poll = await g.PollAsync(group, RequireMember(body.MemberId), http.Caller(), body.Max ?? 100, body.WaitMs ?? 0, body.MaxBytes ?? g.Settings.MaxMessageBytes, ct);
            return Results.Ok(new PollResponse(poll.Generation, Assignments(poll.Assignments), [.. poll.Records.Select(GroupRecordJson.From)]));
        })).RequireGridAccess(GridAccess.Write, GridResource.Group, "group");

        endpoints.MapPost("/groups/{group}/commit", (string group, HttpContext http, CancellationToken ct) => Handle(async () =>
        {
            var body = await ReadBodyAsync<CommitRequest>(http.Request, ct);
            var offsets = (body.Offsets ?? []).Select(o => o is { Topic: not null }
                ? new PartitionOffset(o.Topic, o.Partition, o.Offset)
                : throw BrokerRequestException.BadRequest("each offset needs topic, partition and offset")).ToList();
            var committed = await gateway.Value.CommitAsync(group, RequireMember(body.MemberId), http.Caller(), body.Generation, offsets, ct);
            return Results.Ok(new CommitResponse(committed.Generation));
        })).RequireGridAccess(GridAccess.Write, GridResource.Group, "group");

        endpoints.MapPost("/groups/{group}/leave", (string group, HttpContext http, CancellationToken ct) => Handle(async () =>
        {
            var body = await ReadBodyAsync<LeaveRequest>(http.Request, ct);
            var left = await gateway.Value.LeaveAsync(group, RequireMember(body.MemberId), http.Caller(), ct);
            return Results.Ok(new LeaveResponse(left.Generation));
        })).RequireGridAccess(GridAccess.Write, GridResource.Group, "group");

        // Lists the groups the caller may read.
        endpoints.MapGet("/groups", (HttpContext http, CancellationToken ct) => Handle(async () =>
            Results.Ok(new BrokerApiDescription.GroupList([.. (await gateway.Value.ListGroupsAsync(ct))
                .Where(g => http.Caller().Can(GridAccess.Read, GridResource.Group, g.Description.Group)).Select(GroupResponse.From)]))));

        endpoints.MapPost("/groups/{group}/offsets", (string group, HttpRequest request, CancellationToken ct) => Handle(async () =>
        {
            var body = await ReadBodyAsync<ResetOffsetsRequest>(request, ct);
            var timestamp = body.Timestamp is { } t ? ParseTimestamp(t) : (DateTimeOffset?)null;
            var view = await gateway.Value.ResetOffsetsAsync(group, body.Reset ?? throw BrokerRequestException.BadRequest("reset is required"), timestamp, body.Topics, ct);
            return Results.Ok(GroupResponse.From(view));
        })).RequireGridAccess(GridAccess.Admin, GridResource.Group, "group");

        endpoints.MapDelete("/groups/{group}", (string group, CancellationToken ct) => Handle(async () =>
        {
            await gateway.Value.DeleteGroupAsync(group, ct);
            return Results.NoContent();
        })).RequireGridAccess(GridAccess.Admin, GridResource.Group, "group");

        endpoints.MapGet("/groups/{group}", (string group, CancellationToken ct) => Handle(async () =>
            Results.Ok(GroupResponse.From(await gateway.Value.DescribeGroupAsync(group, ct)))))
            .RequireGridAccess(GridAccess.Read, GridResource.Group, "group");

        endpoints.MapGet("/groups/{group}/stream", (string group, HttpContext http) => GroupEventStream.RunAsync(http, group, gateway.Value))
            .RequireGridAccess(GridAccess.Write, GridResource.Group, "group");

        return endpoints;
    }

    /// <summary>A 403 unless the caller may read every topic a member subscribes to; null when it may.</summary>
    internal static IResult? DenyTopics(HttpContext http, IEnumerable<string>? topics) =>
        (topics ?? []).Select(t => http.Deny(GridAccess.Read, GridResource.Topic, t)).FirstOrDefault(d => d is not null);

    internal static IReadOnlyList<TopicPartitionJson> Assignments(IEnumerable<TopicPartition> assignments) =>
        [.. assignments.Select(a => new TopicPartitionJson(a.Topic, a.Partition))];

    internal static IResult Problem(BrokerRequestException e) =>
        e.Status == StatusCodes.Status503ServiceUnavailable ? GridResults.Unavailable(e.Message) : GridResults.Problem(e.Status, e.Title, e.Message);

    internal static int? ParseInt(string? value, string name) =>
        string.IsNullOrEmpty(value) ? null
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw BrokerRequestException.BadRequest($"{name} must be an integer (got '{value}')");

    private static async Task<IResult> Handle(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (BrokerRequestException e)
        {
            return Problem(e);
        }
    }

    private static async Task<T> ReadBodyAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        try
        {
            return await request.ReadFromJsonAsync<T>(Json, ct) ?? throw BrokerRequestException.BadRequest("the request body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw BrokerRequestException.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException e) when (!request.HasJsonContentType())
        {
            throw BrokerRequestException.BadRequest($"send a JSON body with Content-Type: application/json ({e.Message})");
        }
    }

    private static byte[] DecodeValue(ProduceRecordJson? record, int index)
    {
        if (record is null)
        {
            throw BrokerRequestException.BadRequest($"record {index} is null");
        }

        if (record.Value is not null && record.ValueBase64 is not null)
        {
            throw BrokerRequestException.BadRequest($"record {index}: give value or valueBase64, not both");
        }

        if (record.ValueBase64 is { } base64)
        {
            try
            {
                return Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                throw BrokerRequestException.BadRequest($"record {index}: valueBase64 is not valid base64");
            }
        }

        return record.Value is { } text
            ? System.Text.Encoding.UTF8.GetBytes(text)
            : throw BrokerRequestException.BadRequest($"record {index} needs value or valueBase64");
    }

    // An ISO 8601 time (as record timestamps are shown) or Unix milliseconds.
    private static DateTimeOffset ParseTimestamp(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var ms) && ms >= 0 && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() =>
            DateTimeOffset.FromUnixTimeMilliseconds(ms),
        JsonValueKind.String when DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) => at,
        _ => throw BrokerRequestException.BadRequest($"timestamp must be an ISO 8601 time or Unix milliseconds (got {value.GetRawText()})"),
    };

    private static string RequireMember(string? memberId) =>
        memberId ?? throw BrokerRequestException.BadRequest("memberId is required");

    private static long? ParseLong(string? value, string name) =>
        string.IsNullOrEmpty(value) ? null
        : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : throw BrokerRequestException.BadRequest($"{name} must be an integer (got '{value}')");

    private static string Show(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "null";
}
