#nullable enable
using System.Diagnostics;

namespace ActorGrid.Observability;

/// <summary>
/// The names under which ActorGrid publishes telemetry (SPEC §14): one <see cref="System.Diagnostics.Metrics.Meter"/>
/// per area and one <see cref="ActivitySource"/> for every span ActorGrid starts.
/// </summary>
public static class GridTelemetry
{
    /// <summary>Meter of the KV role.</summary>
    public const string KvMeter = "ActorGrid.Kv";

    /// <summary>Meter of the broker role.</summary>
    public const string BrokerMeter = "ActorGrid.Broker";

    /// <summary>Meter of the MapReduce role.</summary>
    public const string MapReduceMeter = "ActorGrid.MapReduce";

    /// <summary>Meter of membership and shard placement.</summary>
    public const string ClusterMeter = "ActorGrid.Cluster";

    /// <summary>Meter of journal writes.</summary>
    public const string JournalMeter = "ActorGrid.Journal";

    /// <summary>Every ActorGrid meter, for <c>AddMeter(...)</c>.</summary>
    public static readonly IReadOnlyList<string> MeterNames = [KvMeter, BrokerMeter, MapReduceMeter, ClusterMeter, JournalMeter];

    /// <summary>Name of the activity source: front-door requests, entity handling and journal writes.</summary>
    public const string ActivitySourceName = "ActorGrid";

    /// <summary>The activity source of every ActorGrid span.</summary>
    public static readonly ActivitySource Source = new(ActivitySourceName, typeof(GridTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>The meter of the role named <paramref name="role"/> (<c>kv</c>, <c>broker</c>, <c>mapreduce</c>), or the cluster meter.</summary>
    public static string MeterForRole(string? role) => role switch
    {
        "kv" => KvMeter,
        "broker" => BrokerMeter,
        "mapreduce" => MapReduceMeter,
        _ => ClusterMeter,
    };
}
