#nullable enable
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ActorGrid.Configuration;

/// <summary>
/// Runs before the actor system starts: puts the SQLite file in WAL mode, checks the cluster-wide settings
/// that must never change for a cluster's journal (the KV partition count), refusing to start on a mismatch, and
/// makes sure the journals have their unique (persistence_id, sequence_number) index.
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
    /// The last guard against two writers of one entity is the journal's unique (persistence_id, sequence_number)
    /// index: the second writer's events are refused instead of interleaved. Akka.Persistence.Sql creates it with the
    /// table; a journal created some other way may lack it. Creates it when missing; refuses to start when it cannot.
    /// A table that does not exist yet is created with the index by the journal itself.
    /// </summary>
    private static async Task EnsureUniqueSequenceIndexAsync(DbConnection connection, PersistenceProvider provider, string table, CancellationToken cancellationToken)
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
        await using (var reader = await check.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt64(0) == 0 || reader.GetInt64(1) > 0)
            {
                return;
            }
        }

        try
        {
            await ExecuteAsync(connection, $"CREATE UNIQUE INDEX {table}_uq ON {table} (persistence_id, sequence_number)", [], cancellationToken);
        }
        catch (DbException e)
        {
            throw new ActorGridConfigurationException(
                $"Invalid journal: table '{table}' has no unique index on (persistence_id, sequence_number) and one cannot be created ({e.Message.Split('\n')[0]}); two writers of one entity could interleave events — repair the table before starting", e);
        }
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
