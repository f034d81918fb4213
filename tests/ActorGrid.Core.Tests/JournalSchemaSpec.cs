using System.Data.Common;
using ActorGrid.Configuration;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ActorGrid.Core.Tests;

/// <summary>
/// JournalPreparation creates the entities' journal tables itself (Akka.Persistence.Sql's auto-initialize is off for
/// that journal): column for column what the plugin creates, without the plugin's two single-column indexes, which
/// a journal the plugin created loses at the next start.
/// </summary>
public sealed class JournalSchemaSpec : IAsyncLifetime
{
    private static readonly string[] Tables = ["journal", "tags"];
    private readonly string _root = Path.Combine(Path.GetTempPath(), "actorgrid-schema-spec-" + Guid.NewGuid().ToString("N"));
    private readonly string _schema = "schema_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public Task Sqlite_journal_tables_are_the_plugins_without_its_unused_indexes() => SameTablesAsync(
        journal => new ActorGridOptions { DataDir = Path.Combine(_root, journal) });

    [PostgresFact]
    public async Task Postgres_journal_tables_are_the_plugins_without_its_unused_indexes()
    {
        var admin = Environment.GetEnvironmentVariable(GridTestClusterOptions.PostgresEnvironmentVariable)!;
        foreach (var journal in new[] { "plugin", "ours" })
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA \"{_schema}_{journal}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        await SameTablesAsync(journal => new ActorGridOptions
        {
            Persistence = new PersistenceOptions
            {
                Provider = PersistenceProvider.PostgreSql,
                ConnectionString = new NpgsqlConnectionStringBuilder(admin) { SearchPath = $"{_schema}_{journal}" }.ToString(),
            },
        });
    }

    private static async Task SameTablesAsync(Func<string, ActorGridOptions> optionsFor)
    {
        var plugin = optionsFor("plugin");
        await CreateWithPluginAsync(plugin);
        var pluginMade = await DescribeAsync(plugin);
        Assert.Contains(pluginMade.Indexes, i => i.Name == "journal_sequence_number_idx");
        Assert.Contains(pluginMade.Indexes, i => i.Name == "journal_created_idx");

        var ours = optionsFor("ours");
        await JournalPreparation.PrepareAsync(ours);
        var ourMade = await DescribeAsync(ours);

        Assert.Equal(pluginMade.Columns, ourMade.Columns);
        Assert.Equal(
            pluginMade.Indexes.Where(i => i.Name is not ("journal_sequence_number_idx" or "journal_created_idx")),
            ourMade.Indexes);
        Assert.Contains(ourMade.Indexes, i => i is { Table: "journal", Unique: true, Columns: "persistence_id,sequence_number" });

        // A journal the plugin made (an earlier version's) becomes the same at the next start, its events intact.
        await JournalPreparation.PrepareAsync(plugin);
        Assert.Equal(ourMade, await DescribeAsync(plugin));
        await using var connection = await OpenAsync(plugin);
        Assert.Equal(1L, Convert.ToInt64(await ScalarAsync(connection, "SELECT COUNT(*) FROM journal")));
    }

    /// <summary>Lets Akka.Persistence.Sql create the journal as it would with auto-initialize on, by persisting one event.</summary>
    private static async Task CreateWithPluginAsync(ActorGridOptions options)
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = local
            akka.loglevel = WARNING
            {{ActorGridHocon.JournalPluginId}} {
              class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
              auto-initialize = on
            }
            """).WithFallback(ActorGridHocon.Build(options));
        if (options.Persistence.Provider == PersistenceProvider.Sqlite)
        {
            Directory.CreateDirectory(options.DataDir);
            SqliteJournalFile.EnsureWriteAheadLog(SqliteJournalFile.ConnectionStringFor(options.DataDir));
        }

        var registry = new ManifestRegistry().Add<Checked>("test.schema-checked.v1");
        using var system = ActorSystem.Create("schema", BootstrapSetup.Create().WithConfig(config)
            .And(SerializationChecks.Setup(registry)));
        var writer = system.ActorOf(Props.Create(() => new OneEvent()));
        Assert.Equal("persisted", await writer.Ask<string>(new Checked(), TimeSpan.FromSeconds(20)));
        await system.Terminate();
    }

    private sealed class OneEvent : ReceivePersistentActor
    {
        public override string PersistenceId => "schema-check";

        public OneEvent() => Command<Checked>(e => Persist(e, _ => Sender.Tell("persisted")));
    }

    public sealed record Checked : IActorGridMessage;

    private sealed record Column(string Table, string Name, string Type, bool NotNull);

    private sealed record Index(string Table, string Name, bool Unique, string Columns);

    private sealed record Schema(IReadOnlyList<Column> Columns, IReadOnlyList<Index> Indexes)
    {
        public bool Equals(Schema? other) => other is not null && Columns.SequenceEqual(other.Columns) && Indexes.SequenceEqual(other.Indexes);

        public override int GetHashCode() => Columns.Count;
    }

    private static async Task<Schema> DescribeAsync(ActorGridOptions options)
    {
        await using var connection = await OpenAsync(options);
        var postgres = options.Persistence.Provider == PersistenceProvider.PostgreSql;
        var columns = new List<Column>();
        var indexes = new List<Index>();
        foreach (var table in Tables)
        {
            await using var columnQuery = connection.CreateCommand();
            columnQuery.CommandText = postgres
                ? $"""
                   SELECT column_name, data_type || coalesce('(' || character_maximum_length || ')', '') || coalesce(' identity ' || identity_generation, ''), is_nullable = 'NO'
                   FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position
                   """
                : $"SELECT name, type, \"notnull\" = 1 OR pk = 1 FROM pragma_table_info('{table}') ORDER BY cid";
            await using (var reader = await columnQuery.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    columns.Add(new Column(table, reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
                }
            }

            await using var indexQuery = connection.CreateCommand();
            indexQuery.CommandText = postgres
                ? $"""
                   SELECT i.relname, x.indisunique, (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
                                                     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)
                   FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                   WHERE t.relname = '{table}' AND t.relnamespace = current_schema()::regnamespace ORDER BY i.relname
                   """
                : $"""
                   SELECT l.name, l."unique" = 1, (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))
                   FROM pragma_index_list('{table}') l ORDER BY l.name
                   """;
            await using (var reader = await indexQuery.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    indexes.Add(new Index(table, reader.GetString(0), reader.GetBoolean(1), reader.GetString(2)));
                }
            }
        }

        Assert.NotEmpty(columns);
        return new Schema(columns, indexes);
    }

    private static async Task<DbConnection> OpenAsync(ActorGridOptions options)
    {
        var (_, connectionString) = ActorGridHocon.ResolveJournal(options);
        DbConnection connection = options.Persistence.Provider == PersistenceProvider.PostgreSql
            ? new NpgsqlConnection(connectionString)
            : new SqliteConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        ActorGrid.TestKit.Processes.NodeProcess.TryDelete(_root);
        if (Environment.GetEnvironmentVariable(GridTestClusterOptions.PostgresEnvironmentVariable) is { Length: > 0 } admin)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            foreach (var journal in new[] { "plugin", "ours" })
            {
                await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_schema}_{journal}\" CASCADE", connection);
                await drop.ExecuteNonQueryAsync();
            }
        }
    }
}
