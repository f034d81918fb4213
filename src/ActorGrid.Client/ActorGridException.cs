#nullable enable
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace ActorGrid.Client;

/// <summary>A call the node answered with an error (its <c>application/problem+json</c> body).</summary>
public sealed class ActorGridException(HttpStatusCode status, string title, string? detail)
    : Exception(detail is null ? $"{(int)status} {title}" : $"{(int)status} {title}: {detail}")
{
    /// <summary>The HTTP status code.</summary>
    public HttpStatusCode Status { get; } = status;

    /// <summary>The problem title.</summary>
    public string Title { get; } = title;

    /// <summary>The problem detail, if any.</summary>
    public string? Detail { get; } = detail;

    /// <summary>Throws when <paramref name="response"/> is not a success, with the server's problem detail.</summary>
    public static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        ProblemBody? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync<ProblemBody>(cancellationToken);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            // Not problem+json (a proxy, say): the status line is all there is.
        }

        throw new ActorGridException(response.StatusCode, problem?.Title ?? response.ReasonPhrase ?? "Error", problem?.Detail);
    }

    private sealed record ProblemBody([property: JsonPropertyName("title")] string? Title, [property: JsonPropertyName("detail")] string? Detail);
}
