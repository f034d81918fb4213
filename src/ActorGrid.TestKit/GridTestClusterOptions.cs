#nullable enable
using ActorGrid.Configuration;

namespace ActorGrid.TestKit;

/// <summary>How a <see cref="GridTestCluster"/> starts its nodes.</summary>
public sealed record GridTestClusterOptions
{
    /// <summary>The environment variable holding a PostgreSQL connection string for PostgreSQL-backed specs.</summary>
    public const string PostgresEnvironmentVariable = "ACTORGRID_TEST_POSTGRES";

    /// <summary>Set to <c>1</c> to run every <see cref="GridTestCluster"/> with mutual TLS on remoting (<see cref="RemotingTls"/>).</summary>
    public const string TlsEnvironmentVariable = "ACTORGRID_TEST_TLS";

    /// <summary>
    /// Mutual TLS between the nodes: the cluster gets its own in-process CA and each node a certificate from it.
    /// Defaults to <see cref="TlsEnvironmentVariable"/>, so a whole suite can be run once with TLS on.
    /// </summary>
    public bool RemotingTls { get; init; } = Environment.GetEnvironmentVariable(TlsEnvironmentVariable) == "1";

    /// <summary>Journal provider: a fresh SQLite file per cluster (default) or a fresh schema in PostgreSQL.</summary>
    public PersistenceProvider Provider { get; init; } = PersistenceProvider.Sqlite;

    /// <summary>PostgreSQL connection string; defaults to <see cref="PostgresEnvironmentVariable"/>.</summary>
    public string? PostgresConnectionString { get; init; } = Environment.GetEnvironmentVariable(PostgresEnvironmentVariable);

    /// <summary>Adjusts each node's options (applied after the kit's defaults; receives the node index).</summary>
    public Func<int, ActorGridOptions, ActorGridOptions>? Configure { get; init; }

    /// <summary>Where node logs go (for example <c>ITestOutputHelper.WriteLine</c>); null discards them.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Adds front doors to every node's web application before it is built (for example
    /// <c>b =&gt; b.AddActorGridResp()</c>, with a free <c>Resp.Port</c> per node set through <see cref="Configure"/>).
    /// </summary>
    public Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? FrontDoors { get; init; }

    /// <summary>Lowest level of node log lines passed to <see cref="Log"/>.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Warning;

    /// <summary>
    /// Failure detection for specs: short enough that a crashed node is downed in a few seconds, loose enough that
    /// three nodes sharing two cores do not suspect each other.
    /// </summary>
    public FailureDetectionOptions FailureDetection { get; init; } = new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(500),
        AcceptableHeartbeatPause = TimeSpan.FromSeconds(2),
        StableAfter = TimeSpan.FromSeconds(1.5),
    };

    /// <summary>How long operations such as start, convergence and removal may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}
