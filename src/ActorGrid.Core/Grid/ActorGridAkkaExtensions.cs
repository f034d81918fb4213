#nullable enable
using ActorGrid.Configuration;
using ActorGrid.Coordination;
using ActorGrid.Security;
using ActorGrid.Observability;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;

namespace ActorGrid.Grid;

/// <summary>The Akka.Hosting composition of an ActorGrid node.</summary>
public static class ActorGridAkkaExtensions
{
    /// <summary>
    /// Configures remoting, clustering (keep-majority split-brain resolver), sharding, the SQL journals, the
    /// ActorGrid serializer and every role of <paramref name="grid"/>, then joins the seeds (or itself).
    /// </summary>
    public static AkkaConfigurationBuilder WithActorGrid(this AkkaConfigurationBuilder akka, ActorGridOptions options, ActorGridBuilder grid)
    {
        var context = GridContext.For(options, grid);
        var manifests = grid.BuildManifests();
        akka.WithRemoting(ActorGridHocon.Remoting(options))
            .WithClustering(ActorGridHocon.Clustering(options, context.Roles))
            .AddHocon(ActorGridHocon.Build(options), HoconAddMode.Prepend)
            .WithCustomSerializer(ActorGridSerializer.Name, [typeof(IActorGridMessage)], system => new ActorGridSerializer(system, manifests))
            .ConfigureLoggers(loggers => loggers.AddLogger<GridLogger>());
        if (ActorGridHocon.JournalSetup(options) is { } journals)
        {
            akka.AddSetup(journals);
        }

        if (options.Security.Tls is { } tls)
        {
            akka.AddSetup(RemotingTls.Setup(tls));
        }

        foreach (var role in grid.Roles)
        {
            role.Configure(akka, context);
        }

        foreach (var customise in grid.AkkaCustomisations)
        {
            customise(akka);
        }

        return akka.AddStartup((system, _) =>
            {
                DownedNodeGuard.Start(system, ActorGridHocon.ShardLease(options.FailureDetection).Ttl);
                DroppedRequests.Start(system);
                return JoinClusterAsync(system, options);
            })
            .AddStartup((system, _) => ClusterMetrics.Start(system, TimeSpan.FromSeconds(2)));
    }

    /// <summary>The Akka address of a seed given as <c>host:port</c>, on the same transport as <paramref name="self"/>.</summary>
    public static Address SeedAddress(Address self, string seed)
    {
        ActorGridOptionsValidator.TryParseHostPort(seed, out var host, out var port);
        return new Address(self.Protocol, self.System, host, port);
    }

    private static async Task JoinClusterAsync(ActorSystem system, ActorGridOptions options)
    {
        var cluster = Cluster.Get(system);
        var seeds = await SeedDiscovery.ResolveAsync(options, name => System.Net.Dns.GetHostAddressesAsync(name));
        if (seeds.Count == 0)
        {
            cluster.Join(cluster.SelfAddress);
        }
        else
        {
            cluster.JoinSeedNodes(seeds.Select(s => SeedAddress(cluster.SelfAddress, s)));
        }
    }
}
