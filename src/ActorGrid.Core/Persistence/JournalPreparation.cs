#nullable enable
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ActorGrid.Configuration;

/// <summary>
/// Runs before the actor system starts: puts the SQLite file in WAL mode, checks the cluster-wide settings
/// that must never change for a cluster's journal (the KV partition count), refusing to start on a mismatch,
/// creates the entities' event journal (<see cref="EnsureEventJournalAsync"/>) and makes sure the journals have
/// their unique (persistence_id, sequence_number) index.
/// </summary>
public static class JournalPreparation
{
    /// <summary>Prepares the journal for <paramref name="options"/>.</summary>
    /// <exception cref="ActorGridConfigurationException">when the journal belongs to a cluster with other fixed settings.</exception>
    public static async Task PrepareAsync(ActorGridOptions options, CancellationToken cancellationToken = default)
    {
        var (_, connectionString) = ActorGridHocon.ResolveJournal(options);
        if (options.Persistence.Provider == PersistenceProvider.Sqlite)
        {
            SqliteJournalFile.EnsureWriteAheadLog(connectionString);
        }

        await using var connection = Open(options.Persistence.Provider, connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or ArgumentException)
        {
            throw new ActorGridConfigurationException(
                $"Invalid configuration: ActorGrid:Persistence:ConnectionString cannot be opened ({e.Message.Split('\n')[0]})", e);
        }

        await ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS actorgrid_cluster (
              cluster_name VARCHAR(255) NOT NULL PRIMARY KEY,
              kv_partitions INTEGER NOT NULL
            )
            """, [], cancellationToken);
        await ExecuteAsync(connection,
            "INSERT INTO actorgrid_cluster (cluster_name, kv_partitions) VALUES (@name, @partitions) ON CONFLICT (cluster_name) DO NOTHING",
            [("name", options.ClusterName), ("partitions", options.Kv.Partitions)], cancellationToken);

        await EnsureEventJournalAsync(connection, options.Persistence.Provider, cancellationToken);
        foreach (var table in new[] { "journal", "sharding_journal" })
        {
            await EnsureUniqueSequenceIndexAsync(connection, options.Persistence.Provider, table, cancellationToken);
        }

        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT kv_partitions FROM actorgrid_cluster WHERE cluster_name = @name";
        AddParameter(select, "name", options.ClusterName);
        var stored = Convert.ToInt32(await select.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        if (stored != options.Kv.Partitions)
        {
            throw new ActorGridConfigurationException(
                $"Invalid configuration: ActorGrid:Kv:Partitions is {options.Kv.Partitions} but cluster '{options.ClusterName}' was created with {stored}; the partition count is fixed for the life of a cluster");
        }
    }

    /// <summary>
    /// The entities' journal tables, created here rather than by Akka.Persistence.Sql (whose auto-initialize is off
    /// for this journal only): the same tables and columns it creates, without its two single-column indexes on
    /// <c>created</c> and <c>sequence_number</c>. No query of the journal or of the read journal filters on either
    /// column without the persistence id (the unique index serves those), yet every event paid for both B-trees
    /// (docs/benchmarks.md). A journal created by an earlier version loses the two indexes at the next start.
    /// </summary>
    private static async Task EnsureEventJournalAsync(DbConnection connection, PersistenceProvider provider, CancellationToken cancellationToken)
    {
        var tables = provider == PersistenceProvider.PostgreSql ? PostgreSqlEventJournal : SqliteEventJournal;
        foreach (var statement in (tables + ";" + EventJournalIndexes).Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            await ExecuteAsync(connection, statement, [], cancellationToken);
        }
    }

    // What Akka.Persistence.Sql creates, column for column per provider (JournalSchemaSpec compares the two); the
    // indexes, the same on both providers, are the plugin's less its two on the journal.
    private const string EventJournalIndexes = """
        DROP INDEX IF EXISTS journal_created_idx;
        DROP INDEX IF EXISTS journal_sequence_number_idx;
        CREATE INDEX IF NOT EXISTS tags_persistence_id_sequence_nr_idx ON tags (persistence_id, sequence_nr);
        CREATE INDEX IF NOT EXISTS tags_tag_idx ON tags (tag)
        """;

    private const string SqliteEventJournal = """
        CREATE TABLE IF NOT EXISTS [journal]
        (
          [ordering]        INTEGER        NOT NULL PRIMARY KEY AUTOINCREMENT,
          [created]         INTEGER        NOT NULL,
          [deleted]         Bit            NOT NULL,
          [persistence_id]  NVarChar(255)  NOT NULL,
          [sequence_number] INTEGER        NOT NULL,
          [message]         VarBinary      NOT NULL,
          [manifest]        NVarChar(500)      NULL,
          [identifier]      INTEGER            NULL,
          [writer_uuid]     NVarChar(128)      NULL
        );
        CREATE TABLE IF NOT EXISTS [tags]
        (
          [ordering_id]    INTEGER       NOT NULL,
          [tag]            NVarChar(64)  NOT NULL,
          [sequence_nr]    INTEGER       NOT NULL,
          [persistence_id] NVarChar(255) NOT NULL,
          CONSTRAINT [PK_tags] PRIMARY KEY ([ordering_id], [tag])
        )
        """;

    private const string PostgreSqlEventJournal = """
        CREATE TABLE IF NOT EXISTS journal
        (
          ordering        BIGINT GENERATED ALWAYS AS IDENTITY NOT NULL,
          created         BigInt  NOT NULL,
          deleted         Boolean NOT NULL,
          persistence_id  text    NOT NULL,
          sequence_number BigInt  NOT NULL,
          message         bytea   NOT NULL,
          manifest        text        NULL,
          identifier      Int         NULL,
          writer_uuid     text        NULL,
          CONSTRAINT "PK_journal" PRIMARY KEY (ordering)
        );
        CREATE TABLE IF NOT EXISTS tags
        (
          ordering_id    BigInt NOT NULL,
          tag            text   NOT NULL,
          sequence_nr    BigInt NOT NULL,
          persistence_id text   NOT NULL,
          CONSTRAINT "PK_tags" PRIMARY KEY (ordering_id, tag)
        )
        """;

    /// <summary>
    /// The last guard against two writers of one entity is the journal's unique (persistence_id, sequence_number)
    /// index: the second writer's events are refused instead of interleaved. Akka.Persistence.Sql creates it with the
    /// table; a journal created some other way (or by <see cref="EnsureEventJournalAsync"/>) may lack it. Creates it
    /// when missing; refuses to start when it cannot. A table that does not exist yet (the sharding journal's, on a
    /// new database) is created with the index by its plugin.
    /// </summary>
    private static async Task EnsureUniqueSequenceIndexAsync(DbConnection connection, PersistenceProvider provider, string table, CancellationToken cancellationToken)
    {
        if (await NeedsUniqueSequenceIndexAsync(connection, provider, table, cancellationToken))
        {
            await CreateUniqueSequenceIndexAsync(connection, provider, table, cancellationToken);
        }
    }

    /// <summary>
    /// Creates the unique index found missing a moment ago. Nodes that share a journal start together, so another
    /// node may have created it since: that is success, not a journal to repair (CI saw a node refuse to start with
    /// "index journal_uq already exists").
    /// </summary>
    internal static async Task CreateUniqueSequenceIndexAsync(DbConnection connection, PersistenceProvider provider, string table, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(connection, $"CREATE UNIQUE INDEX {table}_uq ON {table} (persistence_id, sequence_number)", [], cancellationToken);
        }
        catch (DbException e)
        {
            if (await NeedsUniqueSequenceIndexAsync(connection, provider, table, cancellationToken))
            {
                throw new ActorGridConfigurationException(
                    $"Invalid journal: table '{table}' has no unique index on (persistence_id, sequence_number) and one cannot be created ({e.Message.Split('\n')[0]}); two writers of one entity could interleave events — repair the table before starting", e);
            }
        }
    }

    /// <summary>Whether <paramref name="table"/> exists without a unique (persistence_id, sequence_number) index.</summary>
    private static async Task<bool> NeedsUniqueSequenceIndexAsync(DbConnection connection, PersistenceProvider provider, string table, CancellationToken cancellationToken)
    {
        await using var check = connection.CreateCommand();
        check.CommandText = provider == PersistenceProvider.PostgreSql
            ? """
              SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = @table),
                     (SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                      WHERE c.relname = @table AND c.relnamespace = current_schema()::regnamespace AND i.indisunique
                        AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attnum = ANY(i.indkey)) = ARRAY['persistence_id', 'sequence_number'])
              """
            : """
              SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @table),
                     (SELECT COUNT(*) FROM pragma_index_list(@table) l WHERE l."unique" = 1
                        AND (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY name)) = 'persistence_id,sequence_number')
              """;
        AddParameter(check, "table", table);
        await using var reader = await check.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0) > 0 && reader.GetInt64(1) == 0;
    }

    private static DbConnection Open(PersistenceProvider provider, string connectionString) => provider switch
    {
        PersistenceProvider.PostgreSql => new NpgsqlConnection(connectionString),
        _ => new SqliteConnection(connectionString),
    };

    private static async Task ExecuteAsync(DbConnection connection, string sql, (string Name, object Value)[] parameters, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            AddParameter(command, name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
