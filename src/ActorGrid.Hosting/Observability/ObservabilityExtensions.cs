#nullable enable
using System.Diagnostics.Metrics;
using ActorGrid.Configuration;
using ActorGrid.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ActorGrid.Hosting.Observability;

/// <summary>
/// OpenTelemetry, health checks and the dashboard of a node (SPEC §14): the ActorGrid meters with ASP.NET Core's and
/// the runtime's, served as Prometheus text at <c>GET /metrics</c>; metrics and traces over OTLP when the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; the live and ready health checks; <c>GET /dashboard</c>.
/// </summary>
public static class ObservabilityExtensions
{
    /// <summary>Path of the Prometheus scrape endpoint.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Health-check tag of the liveness checks.</summary>
    public const string LiveTag = "live";

    /// <summary>Health-check tag of the readiness checks.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Adds the node's telemetry and health checks.</summary>
    public static IServiceCollection AddActorGridObservability(this IServiceCollection services, ObservabilityOptions observability)
    {
        services.AddMetrics();
        services.AddHealthChecks()
            .AddCheck<ActorSystemHealthCheck>("actor-system", tags: [LiveTag, ReadyTag])
            .AddCheck<MemberUpHealthCheck>("member-up", tags: [ReadyTag])
            .AddCheck<ShardRegionsHealthCheck>("shard-regions", tags: [ReadyTag])
            .AddCheck<JournalHealthCheck>("journal", tags: [ReadyTag]);

        var otlp = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        if (!observability.Metrics && !otlp)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry();
        services.ConfigureOpenTelemetryMeterProvider((sp, metrics) => metrics.ConfigureResource(r => Describe(r, sp.GetRequiredService<ActorGridOptions>())));
        services.ConfigureOpenTelemetryTracerProvider((sp, tracing) => tracing.ConfigureResource(r => Describe(r, sp.GetRequiredService<ActorGridOptions>())));
        if (observability.Metrics)
        {
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter([.. GridTelemetry.MeterNames])
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });

            // Several nodes can share a process (the TestKit): each node's exporter reads only the meters of its own
            // host (its IMeterFactory) and the process-wide ones (runtime), never another node's.
            services.ConfigureOpenTelemetryMeterProvider((sp, metrics) =>
            {
                var own = sp.GetRequiredService<IMeterFactory>();
                metrics.AddView(instrument => instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, own)
                    ? null
                    : MetricStreamConfiguration.Drop);
            });
        }

        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(GridTelemetry.ActivitySourceName)
                .AddAspNetCoreInstrumentation(a => a.Filter = http => !IsTelemetryPath(http.Request.Path))
                .AddOtlpExporter());
        }

        return services;
    }

    /// <summary>
    /// Measures and traces every ActorGrid role request (<see cref="RequestTelemetryMiddleware"/>; other requests pass
    /// untouched). The node calls it; an embedding service adds it where it wants it in its own pipeline.
    /// </summary>
    public static IApplicationBuilder UseActorGridTelemetry(this IApplicationBuilder app) =>
        app.UseMiddleware<RequestTelemetryMiddleware>();

    /// <summary>
    /// Maps <c>/metrics</c> on <paramref name="api"/> (behind the token check) and <c>/dashboard</c> on
    /// <paramref name="open"/>, as configured. The dashboard's page, script and style hold no data, so they load without a
    /// token; the page asks for one when the node's API answers 401 and sends it with every poll.
    /// </summary>
    internal static void MapTelemetryEndpoints(IEndpointRouteBuilder api, IEndpointRouteBuilder open, ObservabilityOptions observability)
    {
        if (observability.Metrics)
        {
            api.MapPrometheusScrapingEndpoint(MetricsPath);
        }

        if (observability.Dashboard)
        {
            open.MapDashboard();
        }
    }

    private static void Describe(ResourceBuilder resource, ActorGridOptions options) =>
        resource.AddService("actorgrid", serviceInstanceId: $"{options.AdvertisedHostname}:{options.Port}")
            .AddAttributes([new("actorgrid.cluster", options.ClusterName)]);

    internal static bool IsTelemetryPath(PathString path) =>
        path.StartsWithSegments(MetricsPath) || path.StartsWithSegments("/health") || path.StartsWithSegments(DashboardEndpoints.Path);
}
