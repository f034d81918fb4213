#nullable enable
using System.Security.Claims;
using ActorGrid.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ActorGrid.Security;

/// <summary>The authenticated caller of an HTTP request, as the ActorGrid authentication scheme records it.</summary>
public sealed class GridIdentity(GridPrincipal principal) : ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, principal.Id)], SchemeName)
{
    /// <summary>The ActorGrid bearer-token authentication scheme.</summary>
    public const string SchemeName = "ActorGrid";

    /// <summary>The caller.</summary>
    public GridPrincipal Principal { get; } = principal;
}

/// <summary>Scope checks for HTTP endpoints, over <see cref="GridAuthorization"/>.</summary>
public static class GridHttpAccess
{
    private static readonly GridPrincipal Nobody = new("nobody", []);

    /// <summary>
    /// The caller of <paramref name="http"/>; a caller with no scopes when the request did not pass the ActorGrid
    /// scheme (an endpoint mapped outside <c>MapActorGrid</c> is closed, not open).
    /// </summary>
    public static GridPrincipal Caller(this HttpContext http) =>
        http.User.Identities.OfType<GridIdentity>().FirstOrDefault()?.Principal ?? Nobody;

    /// <summary>A 403 answer when the caller may not perform <paramref name="access"/> on <paramref name="kind"/> <paramref name="name"/>; null when it may.</summary>
    public static IResult? Deny(this HttpContext http, GridAccess access, string kind, string name) =>
        GridAuthorization.Authorize(http.Caller(), access, kind, name) is { } reason ? GridResults.Forbidden(reason) : null;

    /// <summary>Requires <paramref name="access"/> on the resource named by route value <paramref name="routeValue"/> (<see cref="Deny"/> before the handler runs).</summary>
    public static TBuilder RequireGridAccess<TBuilder>(this TBuilder builder, GridAccess access, string kind, string? routeValue = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var name = routeValue is null ? "" : context.HttpContext.Request.RouteValues[routeValue]?.ToString() ?? "";
            return context.HttpContext.Deny(access, kind, name) ?? await next(context);
        });
}
