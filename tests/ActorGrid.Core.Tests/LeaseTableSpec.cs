using ActorGrid.Configuration;
using ActorGrid.Coordination;
using ActorGrid.TestKit;
using Npgsql;

namespace ActorGrid.Core.Tests;

/// <summary>
/// The shard lease's table against a real database: one holder at a time, the next only after expiry in the
/// database's clock (or a release), an expired lease never renewed, a new fencing counter per new holder.
/// </summary>
public sealed class LeaseTableSpec : IAsyncLifetime
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(600);
    private static readonly TimeSpan Held = TimeSpan.FromMinutes(1);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "actorgrid-lease-spec-" + Guid.NewGuid().ToString("N"));
    private readonly string _schema = "lease_" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public Task Sqlite_lease_has_one_holder_until_it_expires() => OneHolderUntilExpiryAsync(SqliteTable());

    [PostgresFact]
    public async Task Postgres_lease_has_one_holder_until_it_expires() => await OneHolderUntilExpiryAsync(await PostgresTableAsync());

    [Fact]
    public async Task Sqlite_released_lease_is_free_at_once()
    {
        var table = SqliteTable();
        Assert.NotNull(await table.TryAcquireAsync("shard-1", "a#1", TimeSpan.FromMinutes(1), default));
        await table.ReleaseAsync("shard-1", "b#1", default);   // not b's: nothing happens
        Assert.Null(await table.TryAcquireAsync("shard-1", "b#1", TimeSpan.FromMinutes(1), default));
        await table.ReleaseAsync("shard-1", "a#1", default);
        Assert.NotNull(await table.TryAcquireAsync("shard-1", "b#1", TimeSpan.FromMinutes(1), default));
    }

    private static async Task OneHolderUntilExpiryAsync(LeaseTable table)
    {
        // Held with a long TTL, so that a slow machine cannot let it lapse between two calls.
        var first = await table.TryAcquireAsync("shard-7", "a#1", Held, default);
        Assert.NotNull(first);
        Assert.Null(await table.TryAcquireAsync("shard-7", "b#2", Held, default));
        Assert.Equal(["shard-7"], await table.RenewAsync(["shard-7"], "a#1", Held, default));
        Assert.Empty(await table.RenewAsync(["shard-7"], "b#2", Held, default));

        // a's last renewal before it stops renewing (paused) is a short one: b gets the lease once it expired in the database's clock.
        Assert.Equal(["shard-7"], await table.RenewAsync(["shard-7"], "a#1", Short, default));
        long? second = null;
        await Eventually.AwaitAsync(async () => (second = await table.TryAcquireAsync("shard-7", "b#2", Held, default)) is null ? "a still holds it" : null,
            TimeSpan.FromSeconds(10), "the lease to expire");
        Assert.True(second > first, $"fence {second} after {first}");

        // a wakes: its renewal finds the lease gone, and it cannot take it back while b holds it.
        Assert.Empty(await table.RenewAsync(["shard-7"], "a#1", Held, default));
        Assert.Null(await table.TryAcquireAsync("shard-7", "a#1", Held, default));
    }

    private LeaseTable SqliteTable()
    {
        var connectionString = SqliteJournalFile.ConnectionStringFor(_dataDir);
        SqliteJournalFile.EnsureWriteAheadLog(connectionString);
        return new LeaseTable(postgres: false, connectionString, TimeSpan.FromSeconds(5));
    }

    private async Task<LeaseTable> PostgresTableAsync()
    {
        var admin = Environment.GetEnvironmentVariable(GridTestClusterOptions.PostgresEnvironmentVariable)!;
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA \"{_schema}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new LeaseTable(postgres: true, new NpgsqlConnectionStringBuilder(admin) { SearchPath = _schema }.ToString(), TimeSpan.FromSeconds(5));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        ActorGrid.TestKit.Processes.NodeProcess.TryDelete(_dataDir);
        if (Environment.GetEnvironmentVariable(GridTestClusterOptions.PostgresEnvironmentVariable) is { Length: > 0 } admin)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
