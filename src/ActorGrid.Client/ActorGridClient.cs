#nullable enable
using ActorGrid.Client.Resilience;

namespace ActorGrid.Client;

/// <summary>Every part of the ActorGrid HTTP API (<see cref="ActorGridClient"/>); mock it, or its parts, in tests.</summary>
public interface IActorGridClient
{
    /// <summary>Cluster membership, health and shard placement.</summary>
    IClusterClient Cluster { get; }

    /// <summary>The key-value store.</summary>
    IKvClient Kv { get; }

    /// <summary>Topics, producing, reading, consumer groups and the push stream.</summary>
    IBrokerClient Broker { get; }

    /// <summary>MapReduce jobs.</summary>
    IJobsClient Jobs { get; }
}

/// <summary>
/// Typed client for the ActorGrid HTTP API. Any node serves any request. Failed calls throw
/// <see cref="ActorGridException"/> carrying the server's problem detail. In a service, register it with
/// <c>services.AddActorGridClient(...)</c> (several nodes, failover, safe retries) and inject
/// <see cref="IActorGridClient"/>; elsewhere <see cref="Create"/> builds the same client without a container.
/// </summary>
public sealed class ActorGridClient : IActorGridClient
{
    /// <summary>Creates a client over <paramref name="http"/>, whose <see cref="HttpClient.BaseAddress"/> is the node (no retries of its own).</summary>
    public ActorGridClient(HttpClient http)
        : this(new ClusterClient(Checked(http)), new KvClient(http), new BrokerClient(http), new JobsClient(http))
    {
        Http = http;
    }

    /// <summary>Creates a client for the node at <paramref name="node"/> (e.g. <c>http://127.0.0.1:5080</c>), without retries.</summary>
    public ActorGridClient(Uri node)
        : this(new HttpClient { BaseAddress = node, Timeout = TimeSpan.FromSeconds(30) })
    {
    }

    /// <summary>Combines the four typed clients (as registered by <c>AddActorGridClient</c>).</summary>
    public ActorGridClient(IClusterClient cluster, IKvClient kv, IBrokerClient broker, IJobsClient jobs)
    {
        Cluster = cluster;
        Kv = kv;
        Broker = broker;
        Jobs = jobs;
    }

    /// <summary>The underlying HTTP client, when the client was built over one.</summary>
    public HttpClient? Http { get; }

    /// <inheritdoc />
    public IClusterClient Cluster { get; }

    /// <inheritdoc />
    public IKvClient Kv { get; }

    /// <inheritdoc />
    public IBrokerClient Broker { get; }

    /// <inheritdoc />
    public IJobsClient Jobs { get; }

    /// <summary>
    /// A client over every node of <paramref name="options"/> with failover, the retries of <see cref="RetrySafety"/>,
    /// its token and CA, for code without a service container (tools, scripts). The client owns its connections: keep
    /// one for the life of the program. <paramref name="transport"/> replaces the HTTP transport (and with it the
    /// CA of <see cref="ActorGridClientOptions.CaCertificatePath"/>).
    /// </summary>
    public static ActorGridClient Create(ActorGridClientOptions options, HttpMessageHandler? transport = null)
    {
        if (options.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        var nodes = new NodeRotation(options.Nodes);
        var handler = ActorGridResilience.CreateHandler(options, nodes, transport ?? NodeTransport.CreateHandler(options));
        var http = new HttpClient(handler) { BaseAddress = nodes.Nodes[0], Timeout = Timeout.InfiniteTimeSpan };
        NodeTransport.Authorize(http, options);
        return new ActorGridClient(http);
    }

    private static HttpClient Checked(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http.BaseAddress, "http.BaseAddress");
        return http;
    }
}
