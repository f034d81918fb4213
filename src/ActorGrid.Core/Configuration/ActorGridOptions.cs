#nullable enable
namespace ActorGrid.Configuration;

/// <summary>
/// Everything a node needs to join an ActorGrid cluster. Bound from the <c>ActorGrid</c> configuration section
/// (appsettings.json, <c>ActorGrid__...</c> environment variables, command-line flags).
/// </summary>
public sealed record ActorGridOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "ActorGrid";

    /// <summary>Name of the Akka.NET actor system; nodes only join clusters with the same name.</summary>
    public string ClusterName { get; init; } = "actorgrid";

    /// <summary>Address the remoting transport binds to.</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>Address other nodes use to reach this one (defaults to <see cref="Hostname"/>).</summary>
    public string? PublicHostname { get; init; }

    /// <summary>Remoting port; 0 picks a free port (tests).</summary>
    public int Port { get; init; } = 4053;

    /// <summary>Seed nodes as <c>host:port</c>. Empty: the node forms a one-node cluster by joining itself.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>Roles this node hosts (<c>kv</c>, <c>broker</c>, <c>mapreduce</c>, or user roles). Empty: every role the node was built with.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>Folder for the SQLite journal file (shared by node processes on one machine).</summary>
    public string DataDir { get; init; } = "data";

    /// <summary>Journal settings.</summary>
    public PersistenceOptions Persistence { get; init; } = new();

    /// <summary>Key-value role settings.</summary>
    public KvOptions Kv { get; init; } = new();

    /// <summary>Broker role settings.</summary>
    public BrokerOptions Broker { get; init; } = new();

    /// <summary>The Redis front door (<c>Resp:Port</c>; 0 turns it off).</summary>
    public RespOptions Resp { get; init; } = new();

    /// <summary>Failure detector and split-brain resolver timing.</summary>
    public FailureDetectionOptions FailureDetection { get; init; } = new();

    /// <summary>Kubernetes StatefulSet peer discovery (optional).</summary>
    public StatefulSetOptions? StatefulSet { get; init; }

    /// <summary>Mutual TLS between nodes, bearer tokens and HTTPS on the front doors, protected mode (SPEC §11).</summary>
    public SecurityOptions Security { get; init; } = new();
    /// <summary>Metrics, traces and the dashboard (SPEC §14).</summary>
    public ObservabilityOptions Observability { get; init; } = new();

    /// <summary>The host name advertised to peers.</summary>
    public string AdvertisedHostname => string.IsNullOrWhiteSpace(PublicHostname) ? Hostname : PublicHostname;
}

/// <summary>Which journal backs the event-sourced entities.</summary>
public enum PersistenceProvider
{
    /// <summary>One SQLite file under <see cref="ActorGridOptions.DataDir"/> in WAL mode (embedded default).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (production).</summary>
    PostgreSql,
}

/// <summary>Journal settings.</summary>
public sealed record PersistenceOptions
{
    /// <summary>Journal provider.</summary>
    public PersistenceProvider Provider { get; init; } = PersistenceProvider.Sqlite;

    /// <summary>Connection string; for SQLite it defaults to <c>{DataDir}/actorgrid.db</c>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>Take a snapshot every this many events per entity, bounding recovery time.</summary>
    public int SnapshotEvery { get; init; } = 1000;
}

/// <summary>Key-value role settings.</summary>
public sealed record KvOptions
{
    /// <summary>Number of KV partitions; fixed for the life of a cluster, all nodes must agree.</summary>
    public int Partitions { get; init; } = 64;

    /// <summary>Largest value accepted, in bytes.</summary>
    public int MaxValueBytes { get; init; } = 1024 * 1024;
}

/// <summary>Broker role settings.</summary>
public sealed record BrokerOptions
{
    /// <summary>Largest record value accepted, in bytes.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;
}

/// <summary>Failure detector and split-brain resolver timing.</summary>
public sealed record FailureDetectionOptions
{
    /// <summary>How often nodes heartbeat each other.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Heartbeat silence tolerated before a node is marked unreachable.</summary>
    public TimeSpan AcceptableHeartbeatPause { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long membership must be stable before the split-brain resolver downs the unreachable side.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Kubernetes StatefulSet discovery: seeds are the first pods' stable DNS names
/// (<c>{ServiceName}-0.{ServiceName}</c> ...), derived from this pod's name.
/// </summary>
public sealed record StatefulSetOptions
{
    /// <summary>This pod's name (<c>POD_NAME</c> from the downward API), e.g. <c>actorgrid-2</c>.</summary>
    public string PodName { get; init; } = "";

    /// <summary>The headless service that gives pods stable DNS names.</summary>
    public string ServiceName { get; init; } = "";

    /// <summary>Number of replicas of the StatefulSet.</summary>
    public int Replicas { get; init; } = 3;

    /// <summary>How many of the first pods act as seeds (at most <see cref="Replicas"/>).</summary>
    public int SeedCount { get; init; } = 3;
}

/// <summary>
/// Security settings (SPEC §11). A node whose <see cref="ActorGridOptions.Hostname"/> is not a loopback address
/// refuses to start unless <see cref="Tls"/> and <see cref="TokensFile"/> are set, or <see cref="Insecure"/> says the
/// operator means it.
/// </summary>
public sealed record SecurityOptions
{
    /// <summary>Start without remoting TLS or tokens on a non-loopback address (protected mode off).</summary>
    public bool Insecure { get; init; }

    /// <summary>Mutual TLS on remoting: every node presents a certificate signed by the cluster CA.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>File of bearer tokens, one a line: <c>&lt;token&gt; &lt;scope&gt;[,&lt;scope&gt;...]</c>.</summary>
    public string? TokensFile { get; init; }

    /// <summary>Serve the HTTP API over TLS with this certificate.</summary>
    public HttpsOptions? Https { get; init; }
}

/// <summary>The node's certificate for remoting and the cluster CA its peers must chain to.</summary>
public sealed record TlsOptions
{
    /// <summary>The node's certificate: a PEM file (with <see cref="PrivateKey"/>) or a PFX/PKCS#12 file holding its key.</summary>
    public string? Certificate { get; init; }

    /// <summary>The PEM private key of a PEM <see cref="Certificate"/> (may be the same file as the certificate).</summary>
    public string? PrivateKey { get; init; }

    /// <summary>Password of a PFX <see cref="Certificate"/>, if it has one.</summary>
    public string? Password { get; init; }

    /// <summary>The cluster CA (PEM): the only root peer certificates may chain to; the system store is not consulted.</summary>
    public string? CaCertificate { get; init; }
}

/// <summary>The HTTP API's TLS certificate.</summary>
public sealed record HttpsOptions
{
    /// <summary>A PEM file (with <see cref="PrivateKey"/>) or a PFX/PKCS#12 file.</summary>
    public string? Certificate { get; init; }

    /// <summary>The PEM private key of a PEM <see cref="Certificate"/>.</summary>
    public string? PrivateKey { get; init; }

    /// <summary>Password of a PFX <see cref="Certificate"/>, if it has one.</summary>
    public string? Password { get; init; }
}

/// <summary>Telemetry settings (SPEC §14). Traces are exported when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
public sealed record ObservabilityOptions
{
    /// <summary>Export the ActorGrid, ASP.NET Core and runtime meters (<c>GET /metrics</c>, and OTLP when configured).</summary>
    public bool Metrics { get; init; } = true;

    /// <summary>Serve the live dashboard at <c>GET /dashboard</c>.</summary>
    public bool Dashboard { get; init; } = true;
}
