#nullable enable
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ActorGrid.Observability;

/// <summary>
/// Front-door requests: one duration histogram per role meter (<c>actorgrid.kv.request.duration</c>, ...) tagged by
/// front door (<c>http</c>, <c>resp</c>, <c>kafka</c>), operation and outcome; its count is the request rate.
/// </summary>
public sealed class RequestMetrics
{
    private readonly NodeTelemetry _telemetry;
    private readonly ConcurrentDictionary<string, Histogram<double>> _byRole = new(StringComparer.Ordinal);

    internal RequestMetrics(NodeTelemetry telemetry) => _telemetry = telemetry;

    /// <summary>
    /// Starts the span of one request at a front door; dispose it after <see cref="Record"/>. Null when nobody
    /// listens to <see cref="GridTelemetry.Source"/>.
    /// </summary>
    public static Activity? StartSpan(string door, string role, string operation)
    {
        var activity = GridTelemetry.Source.StartActivity($"{role} {operation}", ActivityKind.Internal);
        activity?.SetTag("actorgrid.door", door);
        activity?.SetTag("actorgrid.role", role);
        activity?.SetTag("actorgrid.operation", operation);
        return activity;
    }

    /// <summary>Records one request of <paramref name="role"/> through <paramref name="door"/>.</summary>
    public void Record(string door, string role, string operation, string outcome, TimeSpan elapsed)
    {
        var histogram = _byRole.GetOrAdd(role, r => _telemetry.Meter(GridTelemetry.MeterForRole(r)).CreateHistogram<double>(
            $"actorgrid.{r}.request.duration", "s", $"Duration of {r} requests at the front doors, by door, operation and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] }));
        histogram.Record(elapsed.TotalSeconds, new TagList
        {
            { "actorgrid.door", door },
            { "actorgrid.operation", operation },
            { "actorgrid.outcome", outcome },
        });
        Activity.Current?.SetTag("actorgrid.outcome", outcome);
    }
}
