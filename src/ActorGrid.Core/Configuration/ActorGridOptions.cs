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

    /// <summary>
    /// The Redis and Kafka doors' connections run on the socket engine's threads (Kestrel's
    /// <c>UnsafePreferInlineScheduling</c>), and the node executable turns on inline socket completions for its process
    /// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>, unless the environment sets it; an application embedding
    /// ActorGrid keeps its own runtime settings): a command is read, served and answered with no hand-off to the thread
    /// pool. Safe because no door or continuation blocks; a command's CPU-heavy work delays the other connections of its
    /// socket thread while it runs. The HTTP API keeps Kestrel's default scheduling: with inline scheduling Kestrel reset
    /// connections whose request body an endpoint refused without reading it.
    /// </summary>
    public bool InlineIo { get; init; } = true;

    /// <summary>Folder for the SQLite journal file (shared by node processes on one machine).</summary>
    public string DataDir { get; init; } = "data";

    /// <summary>Journal settings.</summary>
    public PersistenceOptions Persistence { get; init; } = new();

    /// <summary>Key-value role settings.</summary>
    public KvOptions Kv { get; init; } = new();

    /// <summary>Broker role settings.</summary>
    public BrokerOptions Broker { get; init; } = new();

    /// <summary>MapReduce role settings.</summary>
    public MapReduceOptions MapReduce { get; init; } = new();

    /// <summary>The Kafka protocol front door (<c>ActorGrid:Kafka</c>).</summary>
    public KafkaOptions Kafka { get; init; } = new();
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

    /// <summary>
    /// Journal transactions in flight at once (Akka.Persistence.Sql <c>parallelism</c>). Writes of all entities that
    /// queue while they run are coalesced into the next transaction, so fewer means more writes per commit. Null:
    /// 1 on SQLite (one writer at a time anyway), 2 on PostgreSQL.
    /// </summary>
    public int? WriteParallelism { get; init; }

    /// <summary>Most journal rows coalesced into one transaction (Akka.Persistence.Sql <c>batch-size</c>).</summary>
    public int WriteBatchSize { get; init; } = 4000;
}

/// <summary>Key-value role settings (section <c>ActorGrid:Kv</c>).</summary>
public sealed record KvOptions
{
    /// <summary>Number of KV partitions; fixed for the life of a cluster, all nodes must agree.</summary>
    public int Partitions { get; init; } = 64;

    /// <summary>Largest value accepted, in bytes.</summary>
    public int MaxValueBytes { get; init; } = 1024 * 1024;

    /// <summary>How long tombstones and expired values are kept before compaction purges them.</summary>
    public TimeSpan TombstoneGracePeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a partition remembers a write by its <c>Idempotency-Key</c>: a retry within it gets the original answer.</summary>
    public TimeSpan IdempotencyWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Most writes a partition remembers by their <c>Idempotency-Key</c> (the oldest are forgotten first).</summary>
    public int MaxIdempotencyKeys { get; init; } = 5000;

    /// <summary>How long an HTTP request waits for the owning partition before answering 503.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Most events group-committed in one journal write.</summary>
    public int MaxBatchEvents { get; init; } = 2000;

    /// <summary>About the most value bytes group-committed in one journal write (at least <see cref="MaxValueBytes"/>).</summary>
    public int MaxBatchBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>How often a replica re-subscribes to and hears from each partition it follows.</summary>
    public TimeSpan ReplicaRefreshInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A replica stops following a partition nobody read from it for this long.</summary>
    public TimeSpan ReplicaIdleAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Window of the per-partition ops/sec shown in <c>/cluster/shards</c>.</summary>
    public TimeSpan LoadWindow { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>Broker role settings (section <c>ActorGrid:Broker</c>).</summary>
public sealed record BrokerOptions
{
    /// <summary>Largest record value accepted, in bytes.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest key accepted, in UTF-8 bytes.</summary>
    public int MaxKeyBytes { get; init; } = 1024;

    /// <summary>Most partitions a topic may have.</summary>
    public int MaxPartitions { get; init; } = 1024;

    /// <summary>Most records in one produce request.</summary>
    public int MaxRecordsPerRequest { get; init; } = 10_000;

    /// <summary>Most records one fetch or poll returns.</summary>
    public int MaxFetchRecords { get; init; } = 1000;

    /// <summary>Most records a partition writes to the journal in one batch (group commit).</summary>
    public int MaxWriteBatchRecords { get; init; } = 10_000;

    /// <summary>How many of its newest records a partition keeps in memory; older reads page from the journal.</summary>
    public int TailMaxRecords { get; init; } = 10_000;

    /// <summary>Memory bound of the in-memory tail, in bytes.</summary>
    public long TailMaxBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Most topics a consumer group member may subscribe to in one join.</summary>
    public int MaxJoinTopics { get; init; } = 100;

    /// <summary>Most offsets in one commit.</summary>
    public int MaxCommitOffsets { get; init; } = 10_000;

    /// <summary>Most members of one consumer group.</summary>
    public int MaxMembersPerGroup { get; init; } = 1000;

    /// <summary>Most topics in the grid.</summary>
    public int MaxTopics { get; init; } = 10_000;

    /// <summary>How many recent batches per producer a partition remembers for deduplication.</summary>
    public int ProducerWindowBatches { get; init; } = 16;

    /// <summary>How many producers per partition are remembered (least recently active are forgotten first).</summary>
    public int MaxProducersPerPartition { get; init; } = 1000;

    /// <summary>
    /// A producer with no records in a partition for this long is forgotten there (as Kafka's producer-id expiry).
    /// A forgotten producer keeps only its highest sequence: a retry of anything older is refused, never appended twice.
    /// </summary>
    public TimeSpan ProducerExpiry { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Records between time-index entries (age retention below the in-memory tail has this granularity).</summary>
    public long TimeIndexInterval { get; init; } = 1024;

    /// <summary>Most time-index entries per partition (the interval doubles when exceeded).</summary>
    public int MaxTimeIndexEntries { get; init; } = 4096;

    /// <summary>Concurrent catch-up reads of the journal per partition; more wait in line.</summary>
    public int MaxConcurrentJournalReads { get; init; } = 4;

    /// <summary>Most parked long-poll fetches per partition; beyond it fetches answer at once.</summary>
    public int MaxWaitingFetches { get; init; } = 10_000;

    /// <summary>How often a partition with retention checks for expired records.</summary>
    public TimeSpan RetentionCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Session timeout of group members that do not ask for one.</summary>
    public TimeSpan DefaultSessionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Smallest session timeout a member may ask for.</summary>
    public TimeSpan MinSessionTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Largest session timeout a member may ask for.</summary>
    public TimeSpan MaxSessionTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest long-poll wait.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the HTTP edge waits for an entity to answer (beyond any long-poll wait).</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A partition snapshots at most this often, however fast records arrive.</summary>
    public TimeSpan MinSnapshotInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Shards per broker entity type.</summary>
    public int MaxShards { get; init; } = 100;
}

/// <summary>
/// MapReduce role settings (section <c>ActorGrid:MapReduce</c>). Settings left null scale with the machine's cores.
/// </summary>
public sealed record MapReduceOptions
{
    /// <summary>Most map attempts of one job computing at once on one node (attempts delivering their output do not count). Null: the machine's cores (at least 2).</summary>
    public int? MapSlotsPerNode { get; init; }

    /// <summary>Map attempts of one job queued at a node's worker beyond its slots, so a slot is refilled at once rather than after a round trip to the coordinator. Null: the machine's cores (at least 2).</summary>
    public int? MapPrefetchPerNode { get; init; }

    /// <summary>KV input is cut into about this many map tasks per node owning partitions (each task reads whole partitions of one owner). Fewer, larger tasks shuffle less (each combines more); more balance better and lose less to a crash. Null: twice the machine's cores (at least 4).</summary>
    public int? KvSplitsPerNode { get; init; }

    /// <summary>Most map attempts (of all jobs) a node's worker computes at once; the rest queue. Null: the machine's cores (at least 2).</summary>
    public int? WorkerConcurrency { get; init; }

    /// <summary>Failed or timed-out attempts of one task before the job fails (lost nodes do not count).</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Wait before re-running a failed task; doubles per failure up to 8×.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A map attempt running longer than this is given up and retried.</summary>
    public TimeSpan TaskTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A running attempt slower than this many times the median finished attempt gets a speculative copy.</summary>
    public double SpeculativeAfterFactor { get; init; } = 2.0;

    /// <summary>No speculative copy of an attempt younger than this.</summary>
    public TimeSpan SpeculativeMinRuntime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often coordinators check timeouts, lost nodes, stragglers and free slots.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a coordinator repeats the run request to unfinished reduce partitions.</summary>
    public TimeSpan ReducePingInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often workers repeat unanswered shuffle chunks and task reports.</summary>
    public TimeSpan ReportResendInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Target size of one split of inline text.</summary>
    public int TextSplitChars { get; init; } = 256 * 1024;

    /// <summary>Largest inline text input (it must also fit, as JSON, in one remoting frame: it travels to the job's coordinator in one message).</summary>
    public int MaxTextChars { get; init; } = 1024 * 1024;

    /// <summary>Most topic messages in one split.</summary>
    public int TopicSplitRecords { get; init; } = 50_000;

    /// <summary>Largest serialized chunk of map output sent to one reduce partition.</summary>
    public int ShuffleChunkBytes { get; init; } = 512 * 1024;

    /// <summary>Reduce partitions when the request does not say.</summary>
    public int DefaultReducers { get; init; } = 4;

    /// <summary>Most reduce partitions a job may ask for.</summary>
    public int MaxReducers { get; init; } = 256;

    /// <summary>How long a map attempt retries reading its input (an owner moving) before it fails.</summary>
    public TimeSpan InputRetryDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Entries per KV write of the output.</summary>
    public int OutputBatchEntries { get; init; } = 1000;

    /// <summary>How long an HTTP request waits for a coordinator or reduce partition.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A finished job's coordinator and partitions stop after this long without requests.</summary>
    public TimeSpan FinishedJobIdleAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Most jobs the index keeps (oldest finished ones are forgotten first).</summary>
    public int MaxListedJobs { get; init; } = 10_000;

    /// <summary>A finished job (its coordinator journal, reduce outputs and index entry) is deleted this long after it finished.</summary>
    public TimeSpan JobRetention { get; init; } = TimeSpan.FromHours(24);
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

/// <summary>Kafka protocol front door settings (SPEC §13).</summary>
public sealed record KafkaOptions
{
    /// <summary>Port of the Kafka listener (<c>--kafka</c>); 0 turns the listener off.</summary>
    public int Port { get; init; } = 9092;

    /// <summary>Partitions of a topic created because a client produced to or asked for a topic that does not exist (0: no auto-creation).</summary>
    public int AutoCreatePartitions { get; init; } = 1;
}
