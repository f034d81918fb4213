#nullable enable
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ActorGrid.Coordination;

/// <summary>
/// The <c>actorgrid_lease</c> table in the journal database: one row per lease (name, owner, expiry in the
/// database's clock, fencing counter). Every statement is one atomic row operation judged on the database's clock,
/// so two nodes never both hold a lease however their own clocks or pauses differ.
/// </summary>
internal sealed class LeaseTable
{
    private const string Create = """
        CREATE TABLE IF NOT EXISTS actorgrid_lease (
          name VARCHAR(512) NOT NULL PRIMARY KEY,
          owner VARCHAR(512) NOT NULL,
          expires_at BIGINT NOT NULL,
          fence BIGINT NOT NULL
        )
        """;

    private readonly bool _postgres;
    private readonly string _connectionString;
    private readonly TimeSpan _lockTimeout;
    private readonly string _now;
    private readonly SemaphoreSlim _createGate = new(1, 1);
    private volatile bool _created;

    public LeaseTable(bool postgres, string connectionString, TimeSpan lockTimeout)
    {
        _postgres = postgres;
        _connectionString = connectionString;
        _lockTimeout = lockTimeout;
        // Milliseconds since the epoch on the database's clock: the one clock every node shares.
        _now = postgres
            ? "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
            : "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
    }

    /// <summary>
    /// Takes <paramref name="name"/> for <paramref name="owner"/> until now + <paramref name="ttl"/> if it is free,
    /// expired in database time, or already this owner's; returns the lease's fencing counter, or null when another
    /// owner holds it.
    /// </summary>
    public async Task<long?> TryAcquireAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var sql = $"""
            INSERT INTO actorgrid_lease (name, owner, expires_at, fence) VALUES (@name, @owner, {_now} + @ttl, 1)
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, fence = actorgrid_lease.fence + 1
            WHERE actorgrid_lease.owner = excluded.owner OR actorgrid_lease.expires_at <= {_now}
            RETURNING fence
            """;
        var result = await ExecuteAsync(sql, [("name", name), ("owner", owner), ("ttl", (long)ttl.TotalMilliseconds)], cancellationToken);
        return result.Count == 0 ? null : Convert.ToInt64(result[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Extends every lease of <paramref name="names"/> that <paramref name="owner"/> still holds unexpired to now +
    /// <paramref name="ttl"/>, in one statement; returns the names it extended. An expired lease is never extended,
    /// even when nobody took it: its holder may have been paused, and must start again by acquiring it.
    /// </summary>
    public async Task<IReadOnlySet<string>> RenewAsync(IReadOnlyCollection<string> names, string owner, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var parameters = new List<(string, object)> { ("owner", owner), ("ttl", (long)ttl.TotalMilliseconds) };
        var list = string.Join(", ", names.Select((n, i) =>
        {
            parameters.Add(("n" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), n));
            return "@n" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }));
        var sql = $"UPDATE actorgrid_lease SET expires_at = {_now} + @ttl WHERE owner = @owner AND expires_at > {_now} AND name IN ({list}) RETURNING name";
        var renewed = await ExecuteAsync(sql, [.. parameters], cancellationToken);
        return renewed.Select(r => (string)r).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Gives <paramref name="name"/> up if <paramref name="owner"/> holds it, so the next owner need not wait for it to expire.</summary>
    public Task ReleaseAsync(string name, string owner, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM actorgrid_lease WHERE name = @name AND owner = @owner", [("name", name), ("owner", owner)], cancellationToken);

    private async Task<List<object>> ExecuteAsync(string sql, (string Name, object Value)[] parameters, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        if (!_created)
        {
            await _createGate.WaitAsync(cancellationToken);
            try
            {
                if (!_created)
                {
                    await Run(connection, Create, [], cancellationToken);
                    _created = true;
                }
            }
            finally
            {
                _createGate.Release();
            }
        }

        return await Run(connection, sql, parameters, cancellationToken);
    }

    private static async Task<List<object>> Run(DbConnection connection, string sql, (string Name, object Value)[] parameters, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        var rows = new List<object>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(reader.GetValue(0));
        }

        return rows;
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = _postgres ? new NpgsqlConnection(_connectionString) : new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (connection is SqliteConnection sqlite)
            {
                // SQLite's own wait for the file's write lock, in short steps (not Microsoft.Data.Sqlite's 150 ms retries).
                SQLitePCL.raw.sqlite3_busy_timeout(sqlite.Handle, (int)_lockTimeout.TotalMilliseconds);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
