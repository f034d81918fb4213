#nullable enable
using System.Globalization;
using ActorGrid.Coordination;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.DistributedData;
using Akka.Persistence.Sql;
using Akka.Persistence.Sql.Config;
using Akka.Remote.Hosting;
using ActorGrid.Serialization;

namespace ActorGrid.Configuration;

/// <summary>
/// Turns <see cref="ActorGridOptions"/> into the Akka.NET configuration of a node: Akka.Hosting's typed options for
/// remoting (<see cref="Remoting"/>) and cluster membership with the keep-majority split-brain resolver
/// (<see cref="Clustering"/>), and HOCON (<see cref="Build"/>) for what has no typed option.
/// </summary>
public static class ActorGridHocon
{
    /// <summary>Journal plugin used by ActorGrid entities.</summary>
    public const string JournalPluginId = "akka.persistence.journal.sql";

    /// <summary>Snapshot plugin used by ActorGrid entities.</summary>
    public const string SnapshotPluginId = "akka.persistence.snapshot-store.sql";

    /// <summary>Journal for sharding's own state (remember-entities), kept apart from the role journals.</summary>
    public const string ShardingJournalPluginId = "akka.persistence.journal.sharding";

    /// <summary>Snapshot store for sharding's own state.</summary>
    public const string ShardingSnapshotPluginId = "akka.persistence.snapshot-store.sharding";

    /// <summary>Read journal used for paged catch-up reads.</summary>
    public const string QueryPluginId = "akka.persistence.query.journal.sql";

    // Akka.Persistence.Sql stamps every event with one writer id per node's journal (not per entity incarnation), so
    // the default filter (repair-by-discard-old) takes an entity that moves A → B → A for a stale writer and drops the
    // events written after the move back when it next recovers. One writer per entity is cluster sharding's job.
    private const string ReplayFilterOff = "replay-filter.mode = off";

    /// <summary>
    /// Remoting: where the node listens and what it advertises, frames large enough for the largest KV value or broker
    /// message (twice, plus room for the envelope), and TLS on when <c>Security:Tls</c> is set (the certificate and the
    /// validator against the cluster CA come from <see cref="ActorGrid.Security.RemotingTls"/>'s setup, not from here).
    /// </summary>
    public static RemoteOptions Remoting(ActorGridOptions options)
    {
        var frame = MaxFrameBytes(options);
        return new RemoteOptions
        {
            HostName = options.Hostname,
            PublicHostName = options.AdvertisedHostname,
            Port = options.Port,
            MaxFrameSize = frame,
            SendBufferSize = frame * 2,
            ReceiveBufferSize = frame * 2,
            EnableSsl = options.Security.Tls is not null,
        };
    }

    /// <summary>
    /// The largest remoting frame of a node with <paramref name="options"/>: twice the largest KV value or broker
    /// message, plus 256 KiB. A message larger than this between two nodes is dropped by the transport.
    /// </summary>
    public static long MaxFrameBytes(ActorGridOptions options) =>
        Math.Max(options.Kv.MaxValueBytes, options.Broker.MaxMessageBytes) * 2L + 256 * 1024;

    /// <summary>
    /// The largest serialized message (command or reply) an entity exchanges with another node: <see cref="MaxFrameBytes"/>
    /// less 64 KiB for the remoting envelope (recipient, sender, manifest). Pages and batches are cut below it.
    /// </summary>
    public static long MaxRemoteMessageBytes(ActorGridOptions options) => MaxFrameBytes(options) - 64 * 1024;

    /// <summary>
    /// Cluster membership: the node's roles, the failure detector of <c>FailureDetection</c>, and the keep-majority
    /// split-brain resolver. No seed nodes here: they are resolved (DNS) and joined when the node starts
    /// (<see cref="ActorGrid.Grid.ActorGridAkkaExtensions"/>), which a static <c>seed-nodes</c> list cannot express.
    /// </summary>
    public static ClusterOptions Clustering(ActorGridOptions options, IReadOnlyList<string> roles)
    {
        var fd = options.FailureDetection;
        return new ClusterOptions
        {
            Roles = [.. roles],
            MinimumNumberOfMembers = 1,
            LogInfoVerbose = false,
            SplitBrainResolver = new KeepMajorityOption(),
            FailureDetector = new PhiAccrualFailureDetectorOptions
            {
                HeartbeatInterval = fd.HeartbeatInterval,
                AcceptableHeartbeatPause = fd.AcceptableHeartbeatPause,
                ExpectedResponseAfter = fd.HeartbeatInterval,
            },
        };
    }

    /// <summary>
    /// The node's Akka.NET configuration that no typed Akka.Hosting option covers (with the sharding, singleton,
    /// distributed data and Akka.Persistence.Sql defaults as fallback): log levels, the resolver's timing, downing and
    /// shutdown behaviour, global sharding settings (<c>ShardOptions</c> are per region; these are not), coordinated
    /// shutdown phases, the SQL journals and snapshot stores (Akka.Persistence.Sql.Hosting is not available here), the
    /// shard lease and the serializer bindings.
    /// </summary>
    public static Config Build(ActorGridOptions options)
    {
        var (provider, connectionString) = ResolveJournal(options);
        var fd = options.FailureDetection;
        // The same database for every SQL plugin; sharding's own state only gets other table names.
        // On SQLite, a write transaction takes the file's write lock when it begins (BEGIN IMMEDIATE, waiting through
        // the busy timeout of JournalSetup) instead of upgrading a read midway, which fails at once when another writer got there first.
        var lease = ShardLease(fd);
        var writeIsolation = options.Persistence.Provider == PersistenceProvider.Sqlite ? ", write-isolation-level = serializable" : "";
        var sql = $"connection-string = {Quote(connectionString)}, provider-name = {Quote(provider)}, auto-initialize = on, warn-on-auto-init-fail = off{writeIsolation}";
        // The journal's writer queue coalesces the writes of every entity that arrive while its transactions run
        // into the next one (one commit, one fsync, for writes of many partitions). With the default 3 transactions
        // in flight, SQLite's one write lock made them wait for each other instead, and each carried ~1 partition's
        // write: the cost per journal write, not per event, was what limited durable writes (docs/benchmarks.md).
        var persistence = options.Persistence;
        var parallelism = persistence.WriteParallelism ?? (persistence.Provider == PersistenceProvider.Sqlite ? 1 : 2);
        var journalWriter = $"parallelism = {parallelism}, batch-size = {persistence.WriteBatchSize}, buffer-size = {Math.Max(5000, persistence.WriteBatchSize * 4)}";
        var hocon = $$"""
            akka {
              loglevel = INFO
              stdout-loglevel = WARNING
              remote.log-remote-lifecycle-events = off
              cluster {
                # The strategy and the downing provider come from Clustering(); its timing has no typed option.
                split-brain-resolver {
                  stable-after = {{Ms(fd.StableAfter)}}
                  down-all-when-unstable = on
                }
                # Defaults to stable-after and would hold shards back after downing for no benefit:
                # the downed node has stopped by the time its removal is seen.
                down-removal-margin = {{Ms(TimeSpan.FromMilliseconds(Math.Min(1000, fd.StableAfter.TotalMilliseconds / 2)))}}
                run-coordinated-shutdown-when-down = on
                shutdown-after-unsuccessful-join-seed-nodes = 60s
                sharding {
                  state-store-mode = ddata
                  remember-entities-store = eventsourced
                  journal-plugin-id = {{Quote(ShardingJournalPluginId)}}
                  snapshot-plugin-id = {{Quote(ShardingSnapshotPluginId)}}
                  rebalance-interval = 2s
                  # A node that dies while handing a shard off would otherwise hold that shard for 60 s.
                  handoff-timeout = 10s
                  distributed-data.durable.keys = []
                  # One node at a time runs a shard: it must hold the shard's lease in the journal database
                  # (ActorGrid.Coordination.SqlLease); its entities check it before answering (OwnershipFence).
                  use-lease = {{Quote(SqlLease.ConfigPath)}}
                  # A shard handed off gracefully releases its lease as it stops; the new owner's first try may
                  # come a moment before that.
                  lease-retry-interval = 300ms
                }
                singleton.min-number-of-hand-over-retries = 5
              }
              coordinated-shutdown {
                phases.cluster-sharding-shutdown-region.timeout = 10s
                phases.cluster-exiting.timeout = 5s
              }
              persistence {
                journal.plugin = {{Quote(JournalPluginId)}}
                snapshot-store.plugin = {{Quote(SnapshotPluginId)}}
                journal {
                  # A collision with another writer on the unique index fails that write alone, not its batch.
                  # Its tables are created by JournalPreparation (without two indexes no query uses), not by the plugin.
                  sql { class = "ActorGrid.Persistence.FencedSqlWriteJournal, ActorGrid.Core", {{sql}}, auto-initialize = off, {{ReplayFilterOff}}, {{journalWriter}} }
                  sharding {
                    class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
                    plugin-id = {{Quote(ShardingJournalPluginId)}}
                    plugin-dispatcher = "akka.persistence.dispatchers.default-plugin-dispatcher"
                    {{sql}}, {{ReplayFilterOff}}
                    default {
                      journal.table-name = sharding_journal
                      metadata.table-name = sharding_journal_metadata
                      tag.table-name = sharding_tags
                    }
                  }
                }
                snapshot-store {
                  sql { {{sql}} }
                  sharding {
                    class = "Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql"
                    plugin-id = {{Quote(ShardingSnapshotPluginId)}}
                    plugin-dispatcher = "akka.persistence.dispatchers.default-plugin-dispatcher"
                    {{sql}}
                    default.snapshot.table-name = sharding_snapshot
                  }
                }
                query.journal.sql {
                  connection-string = {{Quote(connectionString)}}
                  provider-name = {{Quote(provider)}}
                  write-plugin = {{Quote(JournalPluginId)}}
                }
              }
            }
            actorgrid.shard-lease {
              lease-class = "ActorGrid.Coordination.SqlLease, ActorGrid.Core"
              heartbeat-timeout = {{Ms(lease.Ttl)}}
              heartbeat-interval = {{Ms(lease.Interval)}}
              lease-operation-timeout = {{Ms(lease.Interval * 2)}}
              provider = {{(options.Persistence.Provider == PersistenceProvider.PostgreSql ? "postgresql" : "sqlite")}}
              connection-string = {{Quote(connectionString)}}
            }
            # Akka's Newtonsoft serializer resolves type names from the payload; it never sees a byte (SPEC §11).
            {{UnboundTypeSerializer.Hocon}}
            """;
        return ConfigurationFactory.ParseString(hocon)
            .WithFallback(ClusterSharding.DefaultConfig())
            .WithFallback(ClusterSingleton.DefaultConfig())
            .WithFallback(DistributedData.DefaultConfig())
            .WithFallback(SqlPersistence.DefaultConfiguration);
    }

    /// <summary>
    /// The shard lease's TTL and renewal interval. The TTL is what the majority needs at least to down a silent
    /// node (acceptable heartbeat pause, then stable-after), so a crashed owner's leases have expired by the time
    /// its shards are allocated elsewhere and takeover waits for nothing more than it did without leases; renewed
    /// every third of it.
    /// </summary>
    public static (TimeSpan Ttl, TimeSpan Interval) ShardLease(FailureDetectionOptions failureDetection)
    {
        var ttl = failureDetection.AcceptableHeartbeatPause + failureDetection.StableAfter;
        return (ttl, ttl / 3);
    }

    /// <summary>The journal provider name (LinqToDB) and connection string for the options.</summary>
    public static (string ProviderName, string ConnectionString) ResolveJournal(ActorGridOptions options) =>
        options.Persistence.Provider switch
        {
            PersistenceProvider.PostgreSql => ("PostgreSQL.15", options.Persistence.ConnectionString!),
            _ => ("SQLite.MS", options.Persistence.ConnectionString ?? SqliteJournalFile.ConnectionStringFor(options.DataDir)),
        };

    /// <summary>
    /// The linq2db options of ActorGrid's own SQL plugins (none of an embedding service's), or null when the
    /// HOCON connection settings suffice: on SQLite, <see cref="SqliteJournalFile.DataOptionsFor"/>.
    /// </summary>
    public static Setup? JournalSetup(ActorGridOptions options)
    {
        if (options.Persistence.Provider != PersistenceProvider.Sqlite)
        {
            return null;
        }

        var dataOptions = SqliteJournalFile.DataOptionsFor(ResolveJournal(options).ConnectionString, SqliteJournalFile.LockTimeout);
        var setup = new MultiDataOptionsSetup();
        foreach (var plugin in new[] { JournalPluginId, SnapshotPluginId, ShardingJournalPluginId, ShardingSnapshotPluginId, QueryPluginId })
        {
            setup.AddDataOptions(plugin, dataOptions);
        }

        return setup;
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Ms(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
}
