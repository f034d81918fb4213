#nullable enable
using System.Data.Common;
using LinqToDB;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;

namespace ActorGrid.Configuration;

/// <summary>
/// Gives every journal and snapshot connection to the SQLite file SQLite's own busy timeout. The file has one
/// writer at a time; without it, a write that finds the lock taken (another plugin's or another node process's
/// write) is retried by Microsoft.Data.Sqlite only after sleeping 150 ms, which showed as 150 ms persist stalls under
/// load. SQLite's handler waits for the lock in steps of 1–100 ms instead.
/// </summary>
internal sealed class SqliteBusyTimeout(TimeSpan timeout) : IConnectionInterceptor
{
    /// <summary>linq2db options for the SQLite journal at <paramref name="connectionString"/> with the busy timeout.</summary>
    public static DataOptions DataOptionsFor(string connectionString, TimeSpan timeout) =>
        new DataOptions()
            .UseConnectionString(ProviderName.SQLiteMS, connectionString)
            .UseInterceptor(new SqliteBusyTimeout(timeout));

    public void ConnectionOpening(ConnectionEventData eventData, DbConnection connection)
    {
    }

    public Task ConnectionOpeningAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public void ConnectionOpened(ConnectionEventData eventData, DbConnection connection) => Apply(connection);

    public Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            SQLitePCL.raw.sqlite3_busy_timeout(handle, (int)timeout.TotalMilliseconds);
        }
    }
}
