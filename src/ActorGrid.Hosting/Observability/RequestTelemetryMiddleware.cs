#nullable enable
using System.Diagnostics;
using ActorGrid.Observability;
using Akka.Actor;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ActorGrid.Hosting.Observability;

/// <summary>Marks the endpoints of one role, so the HTTP front door can measure and trace them per role.</summary>
/// <param name="Role">The role's name (<c>kv</c>, <c>broker</c>, <c>mapreduce</c>, or a user role).</param>
public sealed record GridRoleMetadata(string Role);

/// <summary>
/// The HTTP front door's request telemetry: a span per role request (whose context the role's gateway carries to
/// the owning entity) and the role's <c>actorgrid.&lt;role&gt;.request.duration</c> histogram, tagged by operation
/// (method and route template) and outcome.
/// </summary>
internal sealed class RequestTelemetryMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http, ActorSystem system)
    {
        var endpoint = http.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<GridRoleMetadata>() is not { } role)
        {
            await next(http);
            return;
        }

        var operation = $"{http.Request.Method} {(endpoint as RouteEndpoint)?.RoutePattern.RawText}";
        var started = Stopwatch.GetTimestamp();
        using var activity = RequestMetrics.StartSpan("http", role.Role, operation);
        var outcome = "error";
        try
        {
            await next(http);
            outcome = http.RequestAborted.IsCancellationRequested ? "cancelled" : Outcome(http.Response.StatusCode);
        }
        finally
        {
            NodeTelemetry.For(system).Requests.Record("http", role.Role, operation, outcome, Stopwatch.GetElapsedTime(started));
            activity?.SetTag("http.response.status_code", http.Response.StatusCode);
        }
    }

    private static string Outcome(int status) => status switch
    {
        < 400 => "ok",
        404 => "not_found",
        409 => "conflict",
        412 => "precondition_failed",
        413 => "too_large",
        429 => "throttled",
        < 500 => "client_error",
        503 => "unavailable",
        _ => "error",
    };
}
