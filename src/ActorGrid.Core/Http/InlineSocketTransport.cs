#nullable enable
using System.Net;
using ActorGrid.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ActorGrid.Http;

/// <summary>
/// Kestrel's socket transport with <c>UnsafePreferInlineScheduling</c>, for the front-door endpoints
/// <paramref name="canBind"/> picks (<see cref="ActorGridOptions.InlineIo"/>): a connection's handler runs on the
/// socket thread that read its bytes, with no hand-off to the thread pool per request. Registered after Kestrel's own
/// transport, it is asked first; every endpoint it does not pick (the HTTP API) keeps the default transport.
/// </summary>
public sealed class InlineSocketTransport(Func<EndPoint, bool> canBind, ILoggerFactory loggers) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SocketTransportFactory _sockets = new(Options.Create(new SocketTransportOptions { UnsafePreferInlineScheduling = true }), loggers);

    /// <inheritdoc />
    public bool CanBind(EndPoint endpoint) => canBind(endpoint);

    /// <inheritdoc />
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        _sockets.BindAsync(endpoint, cancellationToken);
}
