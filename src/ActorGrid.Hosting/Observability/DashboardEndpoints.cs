#nullable enable
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ActorGrid.Hosting.Observability;

/// <summary>
/// <c>GET /dashboard</c>: one self-contained page (HTML, script and style embedded in this assembly, nothing from a
/// CDN) that polls the node's own JSON endpoints — <c>/cluster</c>, <c>/cluster/shards</c>, <c>/topics</c>,
/// <c>/groups</c>, <c>/jobs</c> — and draws members, shard placement by load, topic offsets with consumer lag, and
/// job progress.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>The dashboard's path.</summary>
    public const string Path = "/dashboard";

    private static readonly (string File, string ContentType)[] Assets =
    [
        ("index.html", "text/html; charset=utf-8"),
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
    ];

    /// <summary>Maps <c>/dashboard</c> and its two assets.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        foreach (var (file, contentType) in Assets)
        {
            var bytes = Load(file);
            var path = file == "index.html" ? Path : $"{Path}/{file}";
            endpoints.MapGet(path, (HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(bytes, contentType);
            }).ExcludeFromDescription();
        }

        return endpoints;
    }

    private static byte[] Load(string file)
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("ActorGrid.Dashboard." + file)
                           ?? throw new InvalidOperationException($"the dashboard asset {file} is not embedded");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
