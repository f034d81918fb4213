#nullable enable
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ActorGrid.Configuration;

/// <summary>
/// Runs before the actor system starts: puts the SQLite file in WAL mode and checks the cluster-wide settings
/// that must never change for a cluster's journal (the KV partition count), refusing to start on a mismatch.
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
