#nullable enable
using Microsoft.AspNetCore.Http;

namespace ActorGrid.Http;

/// <summary>The HTTP API's <c>application/problem+json</c> answers, shared by every role.</summary>
public static class GridResults
{
    /// <summary>400: the request is malformed; nothing was changed.</summary>
    public static IResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "Bad request", detail);

    /// <summary>403: the caller's token does not cover the operation; nothing was changed.</summary>
    public static IResult Forbidden(string detail) => Problem(StatusCodes.Status403Forbidden, "Forbidden", detail);

    /// <summary>404: the thing asked for does not exist.</summary>
    public static IResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, "Not found", detail);

    /// <summary>409: conflicts with existing state.</summary>
    public static IResult Conflict(string detail) => Problem(StatusCodes.Status409Conflict, "Conflict", detail);

    /// <summary>412: a precondition (If-Match, If-None-Match) did not hold.</summary>
    public static IResult PreconditionFailed(string detail) => Problem(StatusCodes.Status412PreconditionFailed, "Precondition failed", detail);

    /// <summary>413: the payload is larger than allowed.</summary>
    public static IResult TooLarge(string detail) => Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);

    /// <summary>503 with <c>Retry-After</c>: the owner of the data cannot be reached right now.</summary>
    public static IResult Unavailable(string detail, int retryAfterSeconds = 1) =>
        new RetryAfterResult(Problem(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail), retryAfterSeconds);

    /// <summary>A problem+json answer.</summary>
    public static IResult Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);

    private sealed class RetryAfterResult(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
