#nullable enable
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace ActorGrid.Http;

/// <summary>
/// What a role's endpoints take and answer, for the OpenAPI document: request and response bodies per method and
/// route pattern. The endpoints read their bodies themselves (to answer bad input with a precise 400), so nothing
/// would be inferred from their signatures; the description is applied to them as endpoint metadata.
/// </summary>
public sealed class HttpApiDescription
{
    private readonly Dictionary<(string Method, string Pattern), Operation> _operations = [];

    /// <summary>The described operations.</summary>
    public IReadOnlyCollection<(string Method, string Pattern)> Operations => _operations.Keys;

    /// <summary>Describes <c><paramref name="method"/> <paramref name="pattern"/></c> (the pattern as mapped, e.g. <c>/kv/{**key}</c>).</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="pattern">The route pattern, relative to the API's prefix.</param>
    /// <param name="summary">One line for the reference page.</param>
    /// <param name="response">The success body type (null: none).</param>
    /// <param name="status">The success status.</param>
    /// <param name="request">The request body type (null: none).</param>
    /// <param name="requestContentType">The request body's media type.</param>
    /// <param name="responseContentType">The success body's media type.</param>
    /// <param name="problems">The error statuses it answers with problem details.</param>
    public HttpApiDescription Add(
        string method, string pattern, string summary, Type? response, int status = StatusCodes.Status200OK, Type? request = null,
        string requestContentType = "application/json", string responseContentType = "application/json", params int[] problems)
    {
        _operations.Add((method, pattern), new Operation(summary, request, requestContentType, response, status, responseContentType, problems));
        return this;
    }

    /// <summary>
    /// Adds the metadata of the operation <paramref name="endpoint"/> serves, if it is described here;
    /// <paramref name="prefix"/> is the API's route prefix.
    /// </summary>
    public void Apply(EndpointBuilder endpoint, string prefix)
    {
        if (endpoint is not RouteEndpointBuilder { RoutePattern.RawText: { } raw }
            || endpoint.Metadata.OfType<HttpMethodMetadata>().FirstOrDefault() is not { HttpMethods: [var method] })
        {
            return;
        }

        var pattern = "/" + raw.Trim('/')[prefix.Trim('/').Length..].TrimStart('/');
        if (!_operations.TryGetValue((method, pattern), out var operation))
        {
            return;
        }

        endpoint.Metadata.Add(new EndpointSummaryAttribute(operation.Summary));
        if (operation.Request is { } request)
        {
            // Not AcceptsMetadata: routing would then refuse other content types with 415, and the endpoints read
            // their bodies themselves. The OpenAPI document takes the body from this record instead.
            endpoint.Metadata.Add(new RequestBodyDescription(request, operation.RequestContentType));
        }

        endpoint.Metadata.Add(operation.Response is { } response
            ? new ProducesResponseTypeMetadata(operation.Status, response, [operation.ResponseContentType])
            : new ProducesResponseTypeMetadata(operation.Status, typeof(void), []));
        foreach (var problem in operation.Problems.Append(StatusCodes.Status503ServiceUnavailable).Distinct())
        {
            endpoint.Metadata.Add(new ProducesResponseTypeMetadata(problem, typeof(ProblemDetails), ["application/problem+json"]));
        }
    }

    private sealed record Operation(
        string Summary, Type? Request, string RequestContentType, Type? Response, int Status, string ResponseContentType, int[] Problems);
}

/// <summary>An endpoint's request body for the OpenAPI document (the endpoint reads it itself).</summary>
/// <param name="Type">The body's shape.</param>
/// <param name="ContentType">Its media type.</param>
public sealed record RequestBodyDescription(Type Type, string ContentType);
