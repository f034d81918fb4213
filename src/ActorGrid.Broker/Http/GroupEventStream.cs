#nullable enable
using System.Text;
using System.Text.Json;
using ActorGrid.Broker.Gateway;
using ActorGrid.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Http;

/// <summary>
/// Push consumption: <c>GET /groups/{group}/stream?topics=a,b</c> joins the group and streams Server-Sent Events —
/// <c>assigned</c> first (and again whenever the assignment changes), then one <c>record</c> event per record with
/// <c>id: topic/partition/offset</c>. Flow control is pull-based: the next page is fetched only after the previous
/// one was written and flushed to the client, so a slow reader makes the node wait, never buffer without bound.
/// The member leaves the group when the client disconnects.
/// </summary>
internal static class GroupEventStream
{
    private const int IdleWaitMs = 5000;
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(HttpContext http, string group, BrokerGateway gateway)
    {
        var ct = http.RequestAborted;
        JoinGroupResult joined;
        string[] topics;
        int max, maxBytes, waitMs;
        int? sessionTimeoutMs;
        try
        {
            topics = ((string?)http.Request.Query["topics"] ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            max = BrokerEndpoints.ParseInt(http.Request.Query["max"], "max") ?? 100;
            maxBytes = Math.Clamp(BrokerEndpoints.ParseInt(http.Request.Query["maxBytes"], "maxBytes") ?? 1024 * 1024, 1, gateway.Settings.MaxMessageBytes);
            sessionTimeoutMs = BrokerEndpoints.ParseInt(http.Request.Query["sessionTimeoutMs"], "sessionTimeoutMs");
            if (topics.Length == 0)
            {
                throw BrokerRequestException.BadRequest("name the topics to consume: ?topics=a,b");
            }

            if (BrokerEndpoints.DenyTopics(http, topics) is { } denied)
            {
                await denied.ExecuteAsync(http);
                return;
            }

            joined = await gateway.JoinAsync(group, topics, sessionTimeoutMs, null, http.Caller(), ct);
            waitMs = Math.Min(IdleWaitMs, (sessionTimeoutMs ?? (int)gateway.Settings.DefaultSessionTimeout.TotalMilliseconds) / 3);
        }
        catch (BrokerRequestException e)
        {
            await BrokerEndpoints.Problem(e).ExecuteAsync(http);
            return;
        }

        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var memberId = joined.MemberId;
        var generation = joined.Generation;
        try
        {
            await WriteEventAsync(response, "assigned", null, Assigned(memberId, generation, joined.Assignments), ct);
            while (!ct.IsCancellationRequested)
            {
                GroupPollResult poll;
                try
                {
                    poll = await gateway.PollAsync(group, memberId, http.Caller(), max, waitMs, maxBytes, ct);
                }
                catch (BrokerRequestException e) when (e.Code == BrokerErrorCode.UnknownMember)
                {
                    // The session ran out (a reader slower than the session timeout): join again under a new id (the
                    // server makes member ids, SPEC §11) and tell the client its id and assignment.
                    joined = await gateway.JoinAsync(group, topics, sessionTimeoutMs, null, http.Caller(), ct);
                    memberId = joined.MemberId;
                    generation = joined.Generation;
                    await WriteEventAsync(response, "assigned", null, Assigned(memberId, generation, joined.Assignments), ct);
                    continue;
                }
                catch (BrokerRequestException e) when (e.Status == StatusCodes.Status503ServiceUnavailable)
                {
                    await WriteCommentAsync(response, "retrying: " + e.Message, ct);
                    await Task.Delay(500, ct);
                    continue;
                }

                if (poll.Generation != generation)
                {
                    generation = poll.Generation;
                    await WriteEventAsync(response, "assigned", null, Assigned(memberId, generation, poll.Assignments), ct);
                }

                if (poll.Records.Length == 0)
                {
                    await WriteCommentAsync(response, "keep-alive", ct);
                    continue;
                }

                foreach (var record in poll.Records)
                {
                    await WriteEventAsync(response, "record", $"{record.Topic}/{record.Partition}/{record.Record.Offset}", GroupRecordJson.From(record), ct, flush: false);
                }

                // Waits while the client is not reading: this is the back-pressure that bounds the node's buffering.
                await response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (BrokerRequestException e)
        {
            // The headers are gone: the problem travels as the stream's last event.
            await WriteEventAsync(response, "error", null, new { status = e.Status, title = e.Title, detail = e.Message }, ct);
        }
        catch (IOException) when (ct.IsCancellationRequested)
        {
            // The connection broke while writing.
        }
        finally
        {
            try
            {
                using var leave = new CancellationTokenSource(LeaveTimeout);
                await gateway.LeaveAsync(group, memberId, http.Caller(), leave.Token);
            }
            catch (Exception e) when (e is BrokerRequestException or OperationCanceledException)
            {
                // Gone already, or the group is unreachable: the session timeout removes the member.
            }
        }
    }

    private static AssignedEventJson Assigned(string memberId, int generation, TopicPartition[] assignments) =>
        new(memberId, generation, BrokerEndpoints.Assignments(assignments));

    private static async Task WriteEventAsync<T>(HttpResponse response, string name, string? id, T data, CancellationToken ct, bool flush = true)
    {
        var text = new StringBuilder();
        if (id is not null)
        {
            text.Append("id: ").Append(id).Append('\n');
        }

        text.Append("event: ").Append(name).Append('\n')
            .Append("data: ").Append(JsonSerializer.Serialize(data, BrokerEndpoints.Json)).Append("\n\n");
        await response.WriteAsync(text.ToString(), ct);
        if (flush)
        {
            await response.Body.FlushAsync(ct);
        }
    }

    private static async Task WriteCommentAsync(HttpResponse response, string comment, CancellationToken ct)
    {
        await response.WriteAsync(": " + comment.Replace('\n', ' ') + "\n\n", ct);
        await response.Body.FlushAsync(ct);
    }
}
