#nullable enable
using System.Net;

namespace ActorGrid.Client.Resilience;

/// <summary>
/// The nodes a client talks to, and which one is current. Every node serves every request, so calls stay on the
/// current node until it fails, then move on to the next one in order.
/// </summary>
public sealed class NodeRotation
{
    private readonly Uri[] _nodes;
    private int _current;

    /// <summary>A rotation over <paramref name="nodes"/>, starting at the first.</summary>
    public NodeRotation(IEnumerable<Uri> nodes)
    {
        _nodes = [.. nodes.Select(n => n.AbsolutePath.EndsWith('/') ? n : new Uri(n + "/"))];
        if (_nodes.Length == 0)
        {
            throw new ArgumentException("at least one node address is needed", nameof(nodes));
        }
    }

    /// <summary>The node addresses, each ending in <c>/</c>.</summary>
    public IReadOnlyList<Uri> Nodes => _nodes;

    /// <summary>The position of the current node.</summary>
    public int Current => Volatile.Read(ref _current);

    /// <summary>Moves past the node at <paramref name="failed"/>, unless another call has already moved on.</summary>
    public void Failed(int failed) => Interlocked.CompareExchange(ref _current, (failed + 1) % _nodes.Length, failed);

    /// <summary>
    /// The request path of <paramref name="uri"/> relative to whichever node address it starts with, or null when it
    /// is not addressed to any of them.
    /// </summary>
    public string? RelativePath(Uri uri)
    {
        var text = uri.AbsoluteUri;
        foreach (var node in _nodes)
        {
            if (text.StartsWith(node.AbsoluteUri, StringComparison.OrdinalIgnoreCase))
            {
                return text[node.AbsoluteUri.Length..];
            }
        }

        return null;
    }
}

/// <summary>
/// Sends each attempt of a call to the current node of its <see cref="NodeRotation"/>, and moves the rotation on when
/// the node could not be reached or could not serve (502, 503, 504). It sits inside the retry handler, so the
/// retries of one call go to the next nodes.
/// </summary>
public sealed class NodeFailoverHandler(NodeRotation nodes) : DelegatingHandler
{
    private static readonly HttpRequestOptionsKey<string> RelativePath = new("ActorGrid.RelativePath");

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(RelativePath, out var relative))
        {
            relative = request.RequestUri is { IsAbsoluteUri: true } uri ? nodes.RelativePath(uri) : request.RequestUri?.OriginalString;
            if (relative is null)
            {
                // Addressed elsewhere: not ours to route.
                return await base.SendAsync(request, cancellationToken);
            }

            request.Options.Set(RelativePath, relative);
        }

        var index = nodes.Current;
        request.RequestUri = new Uri(nodes.Nodes[index], relative);
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
            {
                nodes.Failed(index);
            }

            return response;
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            nodes.Failed(index);
            throw;
        }
    }
}
