#nullable enable
using System.Data.Common;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace ActorGrid.Hosting.Observability;

/// <summary>Live: the actor system runs (cluster reachability does not matter: a partitioned node is alive).</summary>
internal sealed class ActorSystemHealthCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(system.WhenTerminated.IsCompleted
            ? HealthCheckResult.Unhealthy("the actor system has terminated")
            : HealthCheckResult.Healthy());
}

/// <summary>Ready: this node is an Up member.</summary>
internal sealed class MemberUpHealthCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var self = Cluster.Get(system).SelfMember;
        return Task.FromResult(self.Status == MemberStatus.Up
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"this node is {self.Status}, not Up"));
    }
}

/// <summary>Ready: every role's shard regions (or proxies) have started.</summary>
internal sealed class ShardRegionsHealthCheck(ActorSystem system, ActorGridBuilder grid) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var started = ClusterSharding.Get(system).ShardTypeNames;
        var missing = grid.Roles.SelectMany(r => r.ShardTypeNames).Where(t => !started.Contains(t)).ToList();
        return Task.FromResult(missing.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("shard regions not started: " + string.Join(", ", missing)));
    }
}

/// <summary>Ready: the journal's database accepts a connection and answers a query.</summary>
internal sealed class JournalHealthCheck(ActorGridOptions options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (_, connectionString) = ActorGridHocon.ResolveJournal(options);
        try
        {
            await using DbConnection connection = options.Persistence.Provider == PersistenceProvider.PostgreSql
                ? new NpgsqlConnection(connectionString)
                : new SqliteConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("the journal is unreachable: " + e.Message.Split('\n')[0]);
        }
    }
}
