#nullable enable
namespace ActorGrid.Client;

/// <summary>
/// Typed client for one ActorGrid node's HTTP API. Any node serves any request, so one node's address is enough.
/// Failed calls throw <see cref="ActorGridException"/> carrying the server's problem detail.
/// </summary>
public sealed class ActorGridClient
{
    /// <summary>Creates a client over <paramref name="http"/>, whose <see cref="HttpClient.BaseAddress"/> is the node.</summary>
    public ActorGridClient(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http.BaseAddress, "http.BaseAddress");
        Http = http;
        Cluster = new ClusterClient(http);
        Kv = new KvClient(http);
        Broker = new BrokerClient(http);
        Jobs = new JobsClient(http);
    }

    /// <summary>Creates a client for the node at <paramref name="node"/> (e.g. <c>http://127.0.0.1:5080</c>).</summary>
    public ActorGridClient(Uri node)
        : this(new HttpClient { BaseAddress = node, Timeout = TimeSpan.FromSeconds(30) })
    {
    }

    /// <summary>
    /// Creates a client for the secured node at <paramref name="node"/>, sending <paramref name="connection"/>'s
    /// bearer token and trusting its CA for HTTPS.
    /// </summary>
    public ActorGridClient(Uri node, ActorGridConnection connection)
        : this(connection.CreateHttpClient(node, TimeSpan.FromSeconds(30)))
    {
    }

    /// <summary>The underlying HTTP client.</summary>
    public HttpClient Http { get; }

    /// <summary>Cluster membership, health and shard placement.</summary>
    public ClusterClient Cluster { get; }

    /// <summary>The key-value store.</summary>
    public KvClient Kv { get; }

    /// <summary>Topics, producing, reading, consumer groups and the push stream.</summary>
    public BrokerClient Broker { get; }

    /// <summary>MapReduce jobs.</summary>
    public JobsClient Jobs { get; }
}
