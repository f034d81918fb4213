#nullable enable
using Xunit;

namespace ActorGrid.TestKit;

/// <summary>
/// A fact that needs a real PostgreSQL server (connection string in <see cref="GridTestClusterOptions.PostgresEnvironmentVariable"/>);
/// skipped, visibly and with the reason, when none is configured.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <summary>Skips the fact when no PostgreSQL connection string is configured.</summary>
    public PostgresFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(GridTestClusterOptions.PostgresEnvironmentVariable)))
        {
            Skip = $"PostgreSQL not configured: set {GridTestClusterOptions.PostgresEnvironmentVariable} (.ci/run does)";
        }
    }
}
