using System.Text.Json;
using System.Text.RegularExpressions;
using ActorGrid.Broker;
using ActorGrid.KeyValue;
using ActorGrid.MapReduce;
using ActorGrid.TestKit;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Client.Tests;

/// <summary>The node's OpenAPI document describes every endpoint it maps, with its request and response schemas.</summary>
public sealed partial class OpenApiDocumentSpec
{
    [Fact]
    public async Task The_document_lists_every_mapped_endpoint_with_its_body_schemas()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue().WithBroker().WithMapReduce());
        var node = cluster[0];
        using var document = JsonDocument.Parse(await node.Http.GetStringAsync("openapi/actorgrid.json"));
        var paths = document.RootElement.GetProperty("paths");
        var schemas = document.RootElement.GetProperty("components").GetProperty("schemas");

        var mapped = node.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Method: m, Path: OpenApiPath(e.RoutePattern.RawText!))))
            .ToList();
        Assert.True(mapped.Count >= 24, $"only {mapped.Count} endpoints mapped");

        foreach (var (method, path) in mapped)
        {
            var what = $"{method} {path}";
            Assert.True(paths.TryGetProperty(path, out var item), $"{what} is not in the document");
            Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out var operation), $"{what} is not in the document");
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{what} has no summary");

            if (method is "PUT" or "POST")
            {
                Assert.True(operation.TryGetProperty("requestBody", out var request), $"{what} has no request body");
                AssertSchemas(what + " request", request.GetProperty("content"), schemas);
            }

            var success = operation.GetProperty("responses").EnumerateObject().SingleOrDefault(r => r.Name.StartsWith('2'));
            Assert.True(success.Name is not null, $"{what} has no success response");
            if (success.Name != "204")
            {
                AssertSchemas($"{what} {success.Name}", success.Value.GetProperty("content"), schemas);
            }

            var problems = operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('4') || r.Name.StartsWith('5')).ToList();
            Assert.Contains(problems, p => p.Name == "503");
            Assert.All(problems, p => Assert.True(p.Value.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{what} {p.Name} is not problem+json"));
        }

        // The reference page is served by the node itself, with no assets from elsewhere.
        var page = await node.Http.GetStringAsync("docs");
        Assert.Contains("openapi/actorgrid.json", page, StringComparison.Ordinal);
        Assert.DoesNotMatch(ExternalAsset(), page);
    }

    /// <summary>Every media type of <paramref name="content"/> has a schema; object schemas (or their references) have properties.</summary>
    private static void AssertSchemas(string what, JsonElement content, JsonElement schemas)
    {
        Assert.True(content.EnumerateObject().Any(), $"{what} has no content");
        foreach (var media in content.EnumerateObject())
        {
            Assert.True(media.Value.TryGetProperty("schema", out var schema), $"{what} ({media.Name}) has no schema");
            if (schema.TryGetProperty("$ref", out var reference))
            {
                var name = reference.GetString()!.Split('/')[^1];
                Assert.True(schemas.TryGetProperty(name, out var target), $"{what} refers to a missing schema {name}");
                Assert.True(target.TryGetProperty("properties", out var properties) && properties.EnumerateObject().Any(), $"{what}: schema {name} has no properties");
            }
            else
            {
                Assert.True(schema.TryGetProperty("type", out _), $"{what} ({media.Name}) schema has no type");
            }
        }
    }

    /// <summary>The document's form of a route pattern: <c>/kv/{**key}</c> is <c>/kv/{key}</c>.</summary>
    private static string OpenApiPath(string pattern) => "/" + CatchAll().Replace(pattern.TrimStart('/'), "{$1}");

    [GeneratedRegex(@"\{\*\*?([^}:]+)[^}]*\}")]
    private static partial Regex CatchAll();

    [GeneratedRegex(@"(src|href)\s*=\s*[""']https?://")]
    private static partial Regex ExternalAsset();
}
