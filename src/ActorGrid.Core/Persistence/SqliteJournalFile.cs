#nullable enable
using LinqToDB;
using Microsoft.Data.Sqlite;

namespace ActorGrid.Configuration;

/// <summary>The embedded journal: one SQLite file, shared by the node processes of one machine, in WAL mode.</summary>
public static class SqliteJournalFile
{
    /// <summary>The journal's file name inside the data folder.</summary>
    public const string FileName = "actorgrid.db";

    /// <summary>How long a write waits for another writer's lock on the file before it fails.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Connection string for the journal file under <paramref name="dataDir"/>. Its default timeout bounds
    /// Microsoft.Data.Sqlite's retries of a locked statement; the journals also give SQLite itself the same bound
    /// (<see cref="DataOptionsFor"/>), so writers from several plugins and node processes wait for each other
    /// instead of failing.
    /// </summary>
    public static string ConnectionStringFor(string dataDir) =>
        new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(Path.Combine(dataDir, FileName)),
            DefaultTimeout = (int)LockTimeout.TotalSeconds,
            Pooling = true,
        }.ToString();

    /// <summary>
    /// linq2db options for the journal plugins on <paramref name="connectionString"/>: every connection they open
    /// gets SQLite's own busy timeout. The file has one writer at a time; without it, a write that finds the lock
    /// taken (another plugin's or another node process's) is retried by Microsoft.Data.Sqlite only after sleeping
    /// 150 ms, which showed as 150 ms persist stalls under load. SQLite waits for the lock in 1–100 ms steps instead.
    /// </summary>
    internal static DataOptions DataOptionsFor(string connectionString, TimeSpan lockTimeout) =>
        new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, connectionString)
            .UseAfterConnectionOpened(connection =>
            {
                var handle = ((SqliteConnection)connection).Handle;
                SQLitePCL.raw.sqlite3_busy_timeout(handle, (int)lockTimeout.TotalMilliseconds);

                // Acknowledged = durable: every commit is fsynced (WAL mode's default NORMAL would not sync the log on
                // each commit). Said here rather than left to how the SQLite library was compiled.
                SQLitePCL.raw.sqlite3_exec(handle, "PRAGMA synchronous=FULL;");
            });

    /// <summary>
    /// Creates the folder and puts the database in WAL mode (persistent in the file), so readers never block the
    /// writer and commits are one fsync of the log.
    /// </summary>
    public static void EnsureWriteAheadLog(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new ActorGridConfigurationException(
                $"Invalid configuration: ActorGrid:DataDir '{builder.DataSource}' cannot be put in WAL mode (journal_mode={mode})");
        }
    }
}
