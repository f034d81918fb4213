#nullable enable
namespace ActorGrid.Security;

/// <summary>
/// The one place every front door asks "may this caller do this?" (SPEC §11). HTTP, RESP and Kafka all map their
/// operations to an access level and a resource and call <see cref="Authorize"/>.
/// </summary>
public static class GridAuthorization
{
    /// <summary>
    /// Null when <paramref name="principal"/> may perform <paramref name="access"/> on <paramref name="kind"/>
    /// <paramref name="name"/>; otherwise the reason, naming the scope that would allow it (for a 403 / NOPERM answer).
    /// </summary>
    public static string? Authorize(GridPrincipal principal, GridAccess access, string kind, string name) =>
        principal.Can(access, kind, name)
            ? null
            : $"this token may not {access.ToString().ToLowerInvariant()} {kind} '{name}' (needs a scope such as {new GridScope(access, kind, name)})";
}
