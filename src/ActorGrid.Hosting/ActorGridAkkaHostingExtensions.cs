#nullable enable
using ActorGrid.Configuration;
using ActorGrid.Grid;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Hosting;

/// <summary>Adds ActorGrid to an actor system configured with Akka.Hosting.</summary>
public static class ActorGridAkkaHostingExtensions
{
    /// <summary>
    /// Adds the grid registered by <c>services.AddActorGridServices(...)</c> to this actor system: remoting, clustering,
    /// sharding, journals, the ActorGrid serializer and every role's regions, next to the service's own actors.
    /// The actor system's name must be <c>ActorGrid:ClusterName</c> (nodes only join systems of the same name).
    /// </summary>
    /// <example>
    /// <code>
    /// services.AddActorGridServices(configuration, grid =&gt; grid.WithKeyValue());
    /// services.AddAkka("orders", (akka, sp) =&gt; akka.WithActorGrid(sp).WithActors((system, registry) =&gt; ...));
    /// </code>
    /// </example>
    public static AkkaConfigurationBuilder WithActorGrid(this AkkaConfigurationBuilder akka, IServiceProvider services)
    {
        var grid = services.GetService<ActorGridBuilder>()
            ?? throw new InvalidOperationException("WithActorGrid needs services.AddActorGridServices(...) first: it registers the roles and their services");
        var options = services.GetRequiredService<ActorGridOptions>();
        return akka.WithActorGrid(options, grid).AddStartup((system, _) =>
        {
            if (system.Name != options.ClusterName)
            {
                throw new ActorGridConfigurationException(
                    $"Invalid configuration: {ActorGridOptions.SectionName}:ClusterName is '{options.ClusterName}' but the actor system is named '{system.Name}'; they must be the same");
            }
        });
    }
}
