#nullable enable
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Observability;

/// <summary>
/// The metric instruments of one node, reachable from its actors as <c>NodeTelemetry.For(Context.System)</c>.
/// Meters come from the host's <see cref="IMeterFactory"/>, so several nodes in one process (the TestKit) keep
/// apart: each node's exporter reads only its own meters, and they are disposed with its host.
/// </summary>
public sealed class NodeTelemetry : IExtension
{
    private readonly IMeterFactory _factory;
    private readonly ConcurrentDictionary<string, Meter> _meters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Type, object> _sets = new();

    internal NodeTelemetry(IMeterFactory factory) => _factory = factory;

    /// <summary>The telemetry of <paramref name="system"/>'s node.</summary>
    public static NodeTelemetry For(ActorSystem system) => system.WithExtension<NodeTelemetry, NodeTelemetryProvider>();

    /// <summary>This node's meter named <paramref name="name"/> (one of <see cref="GridTelemetry.MeterNames"/>).</summary>
    public Meter Meter(string name) => _meters.GetOrAdd(name, n => _factory.Create(new MeterOptions(n)));

    /// <summary>The node's instrument set <typeparamref name="T"/>, created on first use.</summary>
    public T Get<T>(Func<NodeTelemetry, T> create) where T : class => (T)_sets.GetOrAdd(typeof(T), _ => create(this));

    /// <summary>Journal writes (every entity that persists records them).</summary>
    public JournalMetrics Journal => Get(t => new JournalMetrics(t.Meter(GridTelemetry.JournalMeter)));

    /// <summary>Front-door requests of every door and role.</summary>
    public RequestMetrics Requests => Get(t => new RequestMetrics(t));

    private sealed class NodeTelemetryProvider : ExtensionIdProvider<NodeTelemetry>
    {
        public override NodeTelemetry CreateExtension(ExtendedActorSystem system)
        {
            // A node composed by Akka.Hosting resolves the host's factory; a bare actor system (unit specs) gets its own.
            var factory = system.Settings.Setup.Get<DependencyResolverSetup>().HasValue
                ? DependencyResolver.For(system).Resolver.GetService<IMeterFactory>()
                : null;
            return new NodeTelemetry(factory ?? Standalone.Value);
        }

        private static readonly Lazy<IMeterFactory> Standalone = new(() =>
            new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
    }
}
