#nullable enable
using System.Text.Json;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Hosting.Observability;
using ActorGrid.Http;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ActorGrid.Hosting;

/// <summary>Serves the ActorGrid HTTP API from an ASP.NET Core application.</summary>
public static class ActorGridWebApplicationExtensions
{
    /// <summary>The name of the grid's OpenAPI document: <c>{prefix}/openapi/actorgrid.json</c>.</summary>
    public const string ApiDocumentName = "actorgrid";

    /// <summary>
    /// Maps the health endpoints, then the cluster endpoints and the endpoints of every role behind bearer-token
    /// authentication, under <paramref name="prefix"/> (default: the root), as one route group whose failures become
    /// <c>application/problem+json</c> (bad input 400, oversize 413, an owner that did not answer 503 with Retry-After).
    /// Nothing is installed app-wide (ASP.NET Core adds its authentication and authorization middleware itself): the rest
    /// of the application keeps its own middleware, and the returned group takes conventions (rate limits, tags).
    /// </summary>
    public static RouteGroupBuilder MapActorGrid(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        var group = endpoints.MapGroup(prefix);
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception e) when (!context.HttpContext.Response.HasStarted && Problem(e, context.HttpContext) is { } problem)
            {
                return problem;
            }
        });
        var roles = endpoints.ServiceProvider.GetRequiredService<ActorGridBuilder>().Roles;
        var description = new HttpApiDescription().DescribeCluster();
        foreach (var role in roles)
        {
            role.DescribeApi(description);
        }

        // The API description (OpenAPI 3 JSON) and a page to browse it, served by the node itself: no external assets.
        group.WithGroupName(ApiDocumentName);
        ((IEndpointConventionBuilder)group).Add(endpoint => description.Apply(endpoint, prefix));
        group.MapOpenApi("/openapi/{documentName}.json");
        group.MapGet("/docs", () => Results.Content(ApiReferencePage.Html(prefix), "text/html")).ExcludeFromDescription();
        group.MapHealthEndpoints();
        // Everything but /health/* needs a token when the node has a tokens file (SPEC §11); endpoints check scopes.
        var api = group.MapGroup("").RequireAuthorization(GridBearerAuthentication.PolicyName);
        ObservabilityExtensions.MapTelemetryEndpoints(api, group, endpoints.ServiceProvider.GetRequiredService<ActorGridOptions>().Observability);
        api.MapClusterEndpoints();
        foreach (var role in roles)
        {
            role.MapEndpoints(api.MapGroup("").WithMetadata(new GridRoleMetadata(role.Name)));
        }

        return group;
    }

    /// <summary>The problem answer for an exception thrown by an endpoint, or null to let it propagate (the client went away).</summary>
    private static IResult? Problem(Exception error, HttpContext http) => error switch
    {
        _ when http.RequestAborted.IsCancellationRequested => null,
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e => GridResults.TooLarge(e.Message),
        BadHttpRequestException e => GridResults.BadRequest(e.InnerException is JsonException j ? j.Message : e.Message),
        JsonException e => GridResults.BadRequest(e.Message),
        // What System.Text.Json throws reading an escaped lone surrogate ("\ud800") as a string: bad input.
        InvalidOperationException { Source: { } source } e when source.StartsWith("System.Text.Json", StringComparison.Ordinal) =>
            GridResults.BadRequest(e.Message),
        AskTimeoutException or TaskCanceledException => GridResults.Unavailable("the owner of this data did not answer in time; retry"),
        _ => InternalError(error, http),
    };

    private static IResult InternalError(Exception error, HttpContext http)
    {
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ActorGrid.Hosting")
            .LogError(error, "Unexpected error serving {Method} {Path}", http.Request.Method, http.Request.Path);
        return GridResults.Problem(StatusCodes.Status500InternalServerError, "Internal error", "an unexpected error occurred; see the node's log");
    }
}
