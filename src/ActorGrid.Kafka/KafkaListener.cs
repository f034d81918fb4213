#nullable enable
using System.Net;
using ActorGrid.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ActorGrid.Kafka;

/// <summary>
/// The Kafka listener: a Kestrel server of its own (the node's HTTP server keeps its own addresses) whose only
/// endpoint runs <see cref="KafkaConnectionHandler"/> over System.IO.Pipelines.
/// </summary>
internal sealed class KafkaListener(ActorGridOptions options, KafkaApiHandler apis, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private WebApplication? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Kafka.Port == 0)
        {
            return;
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton(apis);
        // ActorGrid:InlineIo: connections run on the socket threads (this server has no other endpoint).
        builder.WebHost.UseKestrelCore().UseSockets(sockets => sockets.UnsafePreferInlineScheduling = options.InlineIo).ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var address = IPAddress.TryParse(options.Hostname, out var ip) ? ip : IPAddress.Any;
            kestrel.Listen(address, options.Kafka.Port, listen => listen.UseConnectionHandler<KafkaConnectionHandler>());
        });
        _server = builder.Build();
        await _server.StartAsync(cancellationToken);
        loggers.CreateLogger<KafkaListener>().LogInformation("Kafka protocol listening on {Addresses}",
            string.Join(", ", _server.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
