#nullable enable
using System.Net;
using Polly;
using Polly.Timeout;

namespace ActorGrid.Client.Resilience;

/// <summary>
/// Which failed attempts may be tried again. A request that never reached a node may always be; one that may have
/// reached it only when repeating it cannot apply it twice: reads, conditional writes (<c>If-Match</c>,
/// <c>If-None-Match</c>), writes with an <c>Idempotency-Key</c>, and calls the typed clients mark idempotent
/// (a produce with a producer id, a commit, a topic create).
/// </summary>
public static class RetrySafety
{
    /// <summary>The header that lets a node recognise a retried write.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Request option set by the typed clients on calls that are idempotent by their nature.</summary>
    public static readonly HttpRequestOptionsKey<bool> Idempotent = new("ActorGrid.Idempotent");

    /// <summary>Marks <paramref name="request"/> as safe to repeat.</summary>
    public static HttpRequestMessage MarkIdempotent(this HttpRequestMessage request)
    {
        request.Options.Set(Idempotent, true);
        return request;
    }

    /// <summary>Whether repeating <paramref name="request"/> cannot apply it twice.</summary>
    public static bool IsSafeToRepeat(HttpRequestMessage? request) =>
        request is not null
        && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options
            || request.Headers.IfMatch.Count > 0 || request.Headers.IfNoneMatch.Count > 0
            || request.Headers.Contains(IdempotencyKeyHeader)
            || (request.Options.TryGetValue(Idempotent, out var idempotent) && idempotent));

    /// <summary>Whether an attempt that ended with <paramref name="outcome"/> should be tried again (at another node).</summary>
    public static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request)
    {
        if (outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
        {
            // No connection, so nothing was sent: any call may go to another node.
            return true;
        }

        if (!IsSafeToRepeat(request))
        {
            return false;
        }

        return outcome.Exception is HttpRequestException or TimeoutRejectedException or IOException
            || outcome.Result?.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway
                or HttpStatusCode.GatewayTimeout or HttpStatusCode.TooManyRequests;
    }
}
