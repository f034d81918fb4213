#nullable enable
using System.Net.Http.Json;
using System.Text.Json;
using ActorGrid.Client.Resilience;

namespace ActorGrid.Client;

/// <summary>Requests with a JSON body, marked idempotent when repeating them cannot apply them twice.</summary>
internal static class JsonRequests
{
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task<HttpResponseMessage> SendJsonAsync<T>(
        this HttpClient http, HttpMethod method, string uri, T body, bool idempotent, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = JsonContent.Create(body, options: Web) };
        if (idempotent)
        {
            request.MarkIdempotent();
        }

        return await http.SendAsync(request, cancellationToken);
    }
}
