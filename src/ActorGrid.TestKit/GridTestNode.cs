#nullable enable
using ActorGrid.Client;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Hosting;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote;
using Akka.Remote.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ActorGrid.TestKit;

/// <summary>
/// One ActorGrid node inside the test process: a real ASP.NET Core host serving the HTTP API on a loopback port and
/// a real actor system with remoting on another, composed exactly like <c>ActorGrid.Node</c>.
/// </summary>
public sealed class GridTestNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GridTestNode(int index, WebApplication app, ActorGridOptions options)
    {
        Index = index;
        _app = app;
        Options = options;
        System = app.Services.GetRequiredService<ActorSystem>();
        HttpAddress = new Uri(app.Urls.First());
        Http = new HttpClient { BaseAddress = HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
        Client = new ActorGridClient(Http);
    }

    /// <summary>The node's position in its <see cref="GridTestCluster"/>.</summary>
    public int Index { get; }

    /// <summary>The options the node was started with.</summary>
    public ActorGridOptions Options { get; }

    /// <summary>The node's actor system.</summary>
    public ActorSystem System { get; }

    /// <summary>The node's services (the ActorRegistry, the options, ...).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The node's cluster address.</summary>
    public Address Address => Cluster.Get(System).SelfAddress;

    /// <summary>The node's HTTP API.</summary>
    public Uri HttpAddress { get; }

    /// <summary>An HTTP client bound to this node.</summary>
    public HttpClient Http { get; }

    /// <summary>A typed ActorGrid client bound to this node.</summary>
    public ActorGridClient Client { get; }

    /// <summary>Whether the node's actor system is still running.</summary>
    public bool IsRunning => !System.WhenTerminated.IsCompleted;

    /// <summary>The cluster members this node sees as Up.</summary>
    public IReadOnlyList<Address> UpMembers =>
        Cluster.Get(System).State.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address).ToList();

    internal static async Task<GridTestNode> StartAsync(
        int index, ActorGridOptions options, Action<ActorGridBuilder> roles, GridTestClusterOptions kit)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().SetMinimumLevel(kit.LogLevel);
        if (kit.Log is { } log)
        {
            builder.Logging.AddProvider(new DelegateLoggerProvider($"node{index}", log));
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddActorGrid(options, grid =>
        {
            roles(grid);
            // The throttler and failure-injector adapters let the kit blackhole traffic between node sets.
            grid.ConfigureAkka(akka => akka.AddHocon(
                ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.applied-adapters = [trttl, gremlin]\nakka.stdout-loglevel = OFF"), HoconAddMode.Prepend));
        });
        kit.FrontDoors?.Invoke(builder);
        var app = builder.Build();
        app.MapActorGrid();
        await app.StartAsync();
        return new GridTestNode(index, app, options);
    }

    /// <summary>Kills the node without leaving the cluster: no handoff, peers must detect and down it.</summary>
    public async Task CrashAsync()
    {
        if (IsRunning)
        {
            ((ExtendedActorSystem)System).Abort();
            await System.WhenTerminated;
        }

        await StopHostAsync();
    }

    /// <summary>Leaves the cluster gracefully (shards hand off first), as on SIGTERM.</summary>
    public async Task LeaveAsync()
    {
        await StopHostAsync();
        await System.WhenTerminated;
    }

    /// <summary>Drops (or with <paramref name="blackhole"/> false, restores) all traffic between this node and <paramref name="peer"/>.</summary>
    public Task<bool> SetBlackholeAsync(Address peer, bool blackhole)
    {
        var transport = ((IRemoteActorRefProvider)((ExtendedActorSystem)System).Provider).Transport;
        ThrottleMode mode = blackhole ? Blackhole.Instance : Unthrottled.Instance;
        return transport.ManagementCommand(new SetThrottle(peer, ThrottleTransportAdapter.Direction.Both, mode));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopHostAsync();
        await _app.DisposeAsync();
        Http.Dispose();
    }

    private async Task StopHostAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping a host whose actor system is already gone can outlast the token; nothing is left to wait for.
        }
    }

    private sealed class DelegateLoggerProvider(string node, Action<string> write) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new DelegateLogger(node, categoryName, write);

        public void Dispose()
        {
        }
    }

    private sealed class DelegateLogger(string node, string category, Action<string> write) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                write($"[{node} {logLevel} {category}] {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // xunit refuses output after the test finished; late shutdown lines are not worth failing for.
            }
        }
    }
}
