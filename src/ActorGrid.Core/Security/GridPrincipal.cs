#nullable enable
namespace ActorGrid.Security;

/// <summary>What an operation does to a resource. Each level includes the ones below it: admin ⊇ write ⊇ read.</summary>
public enum GridAccess
{
    /// <summary>Read data or metadata.</summary>
    Read = 1,

    /// <summary>Change data: KV writes and deletes, produce, consume in a group, submit and cancel jobs.</summary>
    Write = 2,

    /// <summary>Change the shape of the grid: create topics.</summary>
    Admin = 3,
}

/// <summary>The kinds of resource a scope can be restricted to (<c>write:kv/orders/</c>).</summary>
public static class GridResource
{
    /// <summary>KV keys.</summary>
    public const string Kv = "kv";

    /// <summary>Broker topics.</summary>
    public const string Topic = "topic";

    /// <summary>Consumer groups.</summary>
    public const string Group = "group";

    /// <summary>MapReduce jobs (by job id).</summary>
    public const string Job = "job";

    /// <summary>Cluster membership and shard placement.</summary>
    public const string Cluster = "cluster";

    /// <summary>Every kind a scope may name.</summary>
    public static readonly IReadOnlySet<string> Kinds = new HashSet<string>(StringComparer.Ordinal) { Kv, Topic, Group, Job, Cluster };
}

/// <summary>
/// One scope of a token: an access level, optionally restricted to one resource kind and a name prefix.
/// <c>read</c> covers everything; <c>write:kv</c> every key; <c>write:kv/orders/</c> keys starting with <c>orders/</c>.
/// </summary>
public sealed record GridScope(GridAccess Access, string? Kind, string Prefix)
{
    /// <summary>Whether this scope allows <paramref name="access"/> to the resource <paramref name="kind"/>/<paramref name="name"/>.</summary>
    public bool Covers(GridAccess access, string kind, string name) =>
        Access >= access
        && (Kind is null || string.Equals(Kind, kind, StringComparison.Ordinal))
        && name.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Parses <c>read</c>, <c>write:kv</c>, <c>write:kv/orders/</c>; null with an error for anything else.</summary>
    public static GridScope? Parse(string text, out string? error)
    {
        error = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var level = colon < 0 ? text : text[..colon];
        GridAccess? access = level switch
        {
            "read" => GridAccess.Read,
            "write" => GridAccess.Write,
            "admin" => GridAccess.Admin,
            _ => null,
        };
        if (access is null)
        {
            error = $"scope '{text}' must start with read, write or admin";
            return null;
        }

        if (colon < 0)
        {
            return new GridScope(access.Value, null, "");
        }

        var resource = text[(colon + 1)..];
        var slash = resource.IndexOf('/', StringComparison.Ordinal);
        var kind = slash < 0 ? resource : resource[..slash];
        if (!GridResource.Kinds.Contains(kind))
        {
            error = $"scope '{text}' names resource kind '{kind}'; known: {string.Join(", ", GridResource.Kinds)}";
            return null;
        }

        return new GridScope(access.Value, kind, slash < 0 ? "" : resource[(slash + 1)..]);
    }

    /// <inheritdoc />
    public override string ToString() =>
        Access.ToString().ToLowerInvariant() + (Kind is null ? "" : ":" + Kind + (Prefix.Length == 0 ? "" : "/" + Prefix));
}

/// <summary>
/// Who is calling, as every front door (HTTP, RESP, Kafka) sees it: a stable id that never reveals the token, and
/// the token's scopes.
/// </summary>
public sealed record GridPrincipal(string Id, IReadOnlyList<GridScope> Scopes)
{
    /// <summary>The caller of a node that has no tokens configured (loopback development, <c>--insecure</c>): may do anything.</summary>
    public static readonly GridPrincipal Unauthenticated = new("anonymous", [new GridScope(GridAccess.Admin, null, "")]);

    /// <summary>Whether any scope allows <paramref name="access"/> to <paramref name="kind"/>/<paramref name="name"/>.</summary>
    public bool Can(GridAccess access, string kind, string name) => Scopes.Any(s => s.Covers(access, kind, name));
}
