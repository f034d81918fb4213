using ActorGrid.Configuration;
using LinqToDB.Data;
using Microsoft.Extensions.Configuration;

namespace ActorGrid.Core.Tests;

/// <summary>How the journals use the embedded SQLite file, whose write lock the node's plugins (and node processes) share.</summary>
public sealed class SqliteJournalSpec : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "actorgrid-sqlite-spec-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    [Fact]
    public void Journal_connections_wait_for_the_write_lock_inside_sqlite()
    {
        var connectionString = SqliteJournalFile.ConnectionStringFor(_dataDir);
        SqliteJournalFile.EnsureWriteAheadLog(connectionString);

        // Without SQLite's own busy timeout, Microsoft.Data.Sqlite retries a locked write only every 150 ms.
        using var connection = new DataConnection(SqliteJournalFile.DataOptionsFor(connectionString, TimeSpan.FromSeconds(7)));
        Assert.Equal(7000L, connection.Execute<long>("PRAGMA busy_timeout"));
    }

    [Fact]
    public void Journal_connections_fsync_every_commit_in_wal_mode()
    {
        var connectionString = SqliteJournalFile.ConnectionStringFor(_dataDir);
        SqliteJournalFile.EnsureWriteAheadLog(connectionString);

        using var connection = new DataConnection(SqliteJournalFile.DataOptionsFor(connectionString, TimeSpan.FromSeconds(7)));
        Assert.Equal("wal", connection.Execute<string>("PRAGMA journal_mode"));
        Assert.Equal(2L, connection.Execute<long>("PRAGMA synchronous")); // FULL: acknowledged = on disk
    }

    [Theory]
    [InlineData("Sqlite", 1)]
    [InlineData("PostgreSql", 2)]
    public void The_journal_coalesces_concurrent_writes_into_few_transactions(string provider, int parallelism)
    {
        var options = ActorGridOptionsValidator.Bind(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ActorGrid:Persistence:Provider"] = provider,
            ["ActorGrid:Persistence:ConnectionString"] = provider == "Sqlite" ? null : "Host=db",
        }).Build());

        var journal = ActorGridHocon.Build(options).GetConfig(ActorGridHocon.JournalPluginId);

        Assert.Equal(parallelism, journal.GetInt("parallelism"));
        Assert.Equal(4000, journal.GetInt("batch-size"));
    }

    [Theory]
    [InlineData("Sqlite", true)]
    [InlineData("PostgreSql", false)]
    public void Sqlite_write_transactions_take_the_lock_when_they_begin(string provider, bool serializable)
    {
        var options = ActorGridOptionsValidator.Bind(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ActorGrid:Persistence:Provider"] = provider,
            ["ActorGrid:Persistence:ConnectionString"] = provider == "Sqlite" ? null : "Host=db",
        }).Build());

        var config = ActorGridHocon.Build(options);

        foreach (var plugin in new[] { ActorGridHocon.JournalPluginId, ActorGridHocon.SnapshotPluginId, ActorGridHocon.ShardingJournalPluginId, ActorGridHocon.ShardingSnapshotPluginId })
        {
            Assert.Equal(serializable, config.GetString(plugin + ".write-isolation-level") == "serializable");
            Assert.Equal(serializable, ActorGridHocon.JournalSetup(options) is Akka.Persistence.Sql.Config.MultiDataOptionsSetup setup && setup.TryGetDataOptionsFor(plugin, out _));
        }
    }
}
