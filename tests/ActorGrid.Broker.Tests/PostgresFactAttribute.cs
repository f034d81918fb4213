using ActorGrid.TestKit;

namespace ActorGrid.Broker.Tests;

/// <summary>A fact that needs a real PostgreSQL server; skipped, visibly, when none is configured.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(GridTestClusterOptions.PostgresEnvironmentVariable)))
        {
            Skip = $"PostgreSQL not configured: set {GridTestClusterOptions.PostgresEnvironmentVariable} (.ci/run does)";
        }
    }
}
