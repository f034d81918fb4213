#nullable enable
using System.Text.Json;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Hosting.Observability;
using ActorGrid.Http;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Hosting;

/// <summary>Serves the ActorGrid HTTP API from an ASP.NET Core application.</summary>
public static class ActorGridWebApplicationExtensions
{
    /// <summary>
    /// Turns errors into <c>application/problem+json</c> (bad input 400, oversize 413, an unreachable owner 503 with
    /// Retry-After) and maps the health endpoints, then the cluster endpoints and the endpoints of every role behind
    /// bearer-token authentication.
    /// </summary>
    public static WebApplication MapActorGrid(this WebApplication app)
    {
        app.UseExceptionHandler(errors => errors.Run(WriteProblem));
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHealthEndpoints();
        // Everything but /health/* needs a token when the node has a tokens file (SPEC §11); endpoints check scopes.
        var api = app.MapGroup("").RequireAuthorization(GridBearerAuthentication.PolicyName);
        app.UseActorGridObservability(app.Services.GetRequiredService<ActorGridOptions>(), api);
        api.MapClusterEndpoints();
        foreach (var role in app.Services.GetRequiredService<ActorGridBuilder>().Roles)
        {
            role.MapEndpoints(api.MapGroup("").WithMetadata(new GridRoleMetadata(role.Name)));
        }

        return app;
    }

    private static Task WriteProblem(HttpContext http)
    {
        var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        var result = error switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e => GridResults.TooLarge(e.Message),
            BadHttpRequestException e => GridResults.BadRequest(e.InnerException is JsonException j ? j.Message : e.Message),
            JsonException e => GridResults.BadRequest(e.Message),
            AskTimeoutException or TaskCanceledException when !http.RequestAborted.IsCancellationRequested =>
                GridResults.Unavailable("the owner of this data did not answer in time; retry"),
            _ => GridResults.Problem(StatusCodes.Status500InternalServerError, "Internal error", "an unexpected error occurred; see the node's log"),
        };
        return result.ExecuteAsync(http);
    }
}
