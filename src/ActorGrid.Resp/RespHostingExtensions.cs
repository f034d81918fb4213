#nullable enable
using System.Net;
using ActorGrid.Broker.Gateway;
using ActorGrid.Configuration;
using ActorGrid.Http;
using ActorGrid.KeyValue;
using ActorGrid.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ActorGrid.Resp;

/// <summary>Adds the Redis front door to an ASP.NET Core service that hosts an ActorGrid node.</summary>
public static class RespHostingExtensions
{
    /// <summary>
    /// Serves RESP2/RESP3 on <c>ActorGrid:Resp:Port</c> (default 6379; 0 turns it off) at <c>ActorGrid:Hostname</c>,
    /// as a Kestrel endpoint whose connections go to <see cref="RespConnectionHandler"/> (so Kestrel's limits and
    /// TLS apply). Needs the <c>kv</c> and <c>broker</c> roles' gateways (any node has them, hosting the roles or
    /// not). With <c>Security:TokensFile</c>, connections authenticate with <c>AUTH &lt;user&gt; &lt;token&gt;</c> or
    /// <c>HELLO 3 AUTH &lt;user&gt; &lt;token&gt;</c> and the token's scopes decide what they may touch.
    /// </summary>
    /// <remarks>
    /// An explicit Kestrel endpoint makes Kestrel ignore the <c>urls</c> setting, so the HTTP addresses of
    /// <c>urls</c> (<c>--http</c>) are bound here as endpoints too, before the RESP one.
    /// </remarks>
    public static WebApplicationBuilder AddActorGridResp(this WebApplicationBuilder builder)
    {
        var listener = new RespListener();
        builder.Services.AddSingleton(listener);
        builder.Services.AddSingleton(sp =>
        {
            var door = new RespFrontDoor(
                sp.GetRequiredService<KvStore>(), sp.GetRequiredService<BrokerGateway>(), sp.GetRequiredService<TokenStore>(),
                sp.GetRequiredService<ActorGridOptions>().Resp, sp.GetRequiredService<ILogger<RespFrontDoor>>(), sp.GetService<TimeProvider>());
            door.Listener = listener;
            return door;
        });
        // ActorGrid:InlineIo: the door's connections run on the socket threads (the HTTP endpoints keep Kestrel's default).
        builder.Services.AddSingleton<IConnectionListenerFactory>(sp =>
        {
            var grid = sp.GetRequiredService<ActorGridOptions>();
            return new InlineSocketTransport(e => grid.InlineIo && grid.Resp.Port != 0 && e is IPEndPoint ip && ip.Port == grid.Resp.Port, sp.GetRequiredService<ILoggerFactory>());
        });
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var grid = kestrel.ApplicationServices.GetRequiredService<ActorGridOptions>();
            if (grid.Resp.Port == 0)
            {
                return;
            }

            foreach (var url in (context.Configuration[WebHostDefaults.ServerUrlsKey] ?? "http://localhost:5000").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                ListenHttp(kestrel, BindingAddress.Parse(url));
            }

            Listen(kestrel, grid.Hostname, grid.Resp.Port, endpoint =>
            {
                endpoint.UseConnectionHandler<RespConnectionHandler>();
                listener.Endpoint = endpoint;
            });
        });
        return builder;
    }

    private static void ListenHttp(KestrelServerOptions kestrel, BindingAddress address)
    {
        // TLS comes from the endpoint defaults (Security:Https sets them for every endpoint, the RESP one included).
        Action<ListenOptions> configure = _ => { };
        if (address.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(address.UnixPipePath, configure);
            return;
        }

        Listen(kestrel, address.Host, address.Port, configure);
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port, Action<ListenOptions> configure)
    {
        if (host is "*" or "+" or "" || (IPAddress.TryParse(host.Trim('[', ']'), out var any) && (any.Equals(IPAddress.Any) || any.Equals(IPAddress.IPv6Any))))
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, port, configure);
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) && port != 0)
        {
            kestrel.ListenLocalhost(port, configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Loopback, port, configure);
        }
    }
}

/// <summary>The Kestrel endpoint of the front door, once configured (its port is the bound one after start).</summary>
internal sealed class RespListener
{
    public ListenOptions? Endpoint { get; set; }
}
