#nullable enable
using ActorGrid.Client;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Hosting;
using ActorGrid.Hosting.Observability;
using ActorGrid.TestKit.Faults;
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
    private readonly PauseGate _gate;

    private GridTestNode(int index, WebApplication app, ActorGridOptions options, PauseGate gate)
    {
        _gate = gate;
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
        var gate = PauseGate.Create();
        builder.Services.AddActorGrid(options, grid =>
        {
            roles(grid);
            // The throttler and failure-injector adapters let the kit blackhole traffic between node sets; the pause
            // gate under every dispatcher lets it stop the node as SIGSTOP stops a process.
            grid.ConfigureAkka(akka => akka.AddHocon(
                ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.applied-adapters = [trttl, gremlin]\nakka.stdout-loglevel = OFF\n" + PauseGate.Hocon(gate)),
                HoconAddMode.Prepend));
        });
        kit.FrontDoors?.Invoke(builder);
        var app = builder.Build();
        app.UseStatusCodePages();
        app.UseActorGridTelemetry();
        app.MapActorGrid();
        await app.StartAsync();
        return new GridTestNode(index, app, options, gate);
    }

    /// <summary>Kills the node without leaving the cluster: no handoff, peers must detect and down it.</summary>
    public async Task CrashAsync()
    {
        // A paused node's own actors would never run its abort.
        _gate.Resume();
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

    /// <summary>Whether the node is paused (<see cref="Pause"/>).</summary>
    public bool IsPaused => _gate.IsPaused;

    /// <summary>
    /// Stops every actor of the node, as SIGSTOP stops a process (see <see cref="PauseGate"/>): messages, remoting
    /// traffic and HTTP requests queue; its peers hear nothing from it; its lease renewals stop.
    /// </summary>
    public void Pause() => _gate.Pause();

    /// <summary>Wakes a paused node: everything queued runs against the state it had when paused.</summary>
    public void Resume() => _gate.Resume();

    /// <summary>
    /// Drops (or with <paramref name="blackhole"/> false, restores) traffic between this node and <paramref name="peer"/>:
    /// both ways, or with <paramref name="direction"/> <c>Send</c> only what this node sends (<c>Receive</c>: only what it gets).
    /// </summary>
    public async Task<bool> SetBlackholeAsync(Address peer, bool blackhole, ThrottleTransportAdapter.Direction direction = ThrottleTransportAdapter.Direction.Both)
    {
        var transport = ((IRemoteActorRefProvider)((ExtendedActorSystem)System).Provider).Transport;
        ThrottleMode mode = blackhole ? Blackhole.Instance : Unthrottled.Instance;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await transport.ManagementCommand(new SetThrottle(peer, direction, mode), deadline.Token);
        }
        catch (Exception e) when (e is RemoteTransportException or AskTimeoutException or OperationCanceledException
                                  && (!IsRunning || CoordinatedShutdown.Get(System).ShutdownReason is not null || Akka.Cluster.Cluster.Get(System).IsTerminated))
        {
            // The node is shutting down (downed by the others, or stopped) while a nemesis partitions it: its remoting
            // is gone or going, so nothing passes either way and there is nothing to throttle. A remoting that has
            // already shut down fails the command; one in the middle of it never answers (seen after a one-way
            // partition got both ends downed: the heal waited out the 30 s ask).
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _gate.Remove();
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
