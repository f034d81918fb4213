#nullable enable
using ActorGrid.Broker.Gateway;
using ActorGrid.Broker.Groups;
using ActorGrid.Broker.Http;
using ActorGrid.Broker.Observability;
using ActorGrid.Broker.Partitions;
using ActorGrid.Broker.Topics;
using ActorGrid.Contracts;
using ActorGrid.Grid;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static ActorGrid.Broker.BrokerProtocol;
using Settings = ActorGrid.Broker.BrokerProtocol.Settings;

namespace ActorGrid.Broker;

/// <summary>ActorRegistry key of the topic metadata shard region.</summary>
public sealed class TopicRegion;

/// <summary>ActorRegistry key of the topic directory shard region.</summary>
public sealed class TopicDirectoryRegion;

/// <summary>ActorRegistry key of the topic partition shard region.</summary>
public sealed class TopicPartitionRegion;

/// <summary>ActorRegistry key of the consumer group shard region.</summary>
public sealed class ConsumerGroupRegion;

/// <summary>
/// The <c>broker</c> role: durable partitioned topics with idempotent producers and consumer groups, served over
/// HTTP by every node (SPEC §5).
/// </summary>
public sealed class BrokerRole(Func<Settings, Settings>? configure = null) : IGridRole
{
    /// <inheritdoc />
    public string Name => RoleName;

    /// <inheritdoc />
    public IReadOnlyList<string> ShardTypeNames { get; } = [TopicTypeName, TopicDirectoryTypeName, PartitionTypeName, GroupTypeName];

    /// <summary>The effective settings for a node with <paramref name="options"/>.</summary>
    public Settings SettingsFor(Configuration.ActorGridOptions options) =>
        configure is null ? Settings.Create(options) : configure(Settings.Create(options));

    /// <inheritdoc />
    public void RegisterManifests(ManifestRegistry manifests) => BrokerProtocol.RegisterManifests(manifests);

    /// <inheritdoc />
    public void AddServices(IServiceCollection services)
    {
        // The actor system is resolved on first use, once the host has started it.
        services.AddSingleton(sp => new BrokerGateway(
            sp.GetRequiredService<ActorSystem>(), SettingsFor(sp.GetRequiredService<Configuration.ActorGridOptions>())));
        services.AddSingleton<ITopicReader>(sp => new BrokerTopicReader(sp.GetRequiredService<BrokerGateway>()));
        services.AddSingleton<ITopicWriter>(sp => new BrokerTopicWriter(sp.GetRequiredService<BrokerGateway>()));
    }

    /// <inheritdoc />
    public void Configure(AkkaConfigurationBuilder akka, GridContext context)
    {
        var settings = SettingsFor(context.Options);
        akka.WithGridRegion<TopicDirectoryRegion>(context, RoleName, TopicDirectoryTypeName,
                _ => TopicDirectoryEntity.PropsFor(settings.SnapshotEvery), settings.MaxShards, handOffStopMessage: StopEntity.Instance)
            .WithGridRegion<TopicRegion>(context, RoleName, TopicTypeName, TopicEntity.PropsFor, settings.MaxShards,
                handOffStopMessage: StopEntity.Instance)
            .WithGridRegion<TopicPartitionRegion>(context, RoleName, PartitionTypeName,
                id => TopicPartitionEntity.PropsFor(id, settings), settings.MaxShards, handOffStopMessage: StopEntity.Instance)
            .WithGridRegion<ConsumerGroupRegion>(context, RoleName, GroupTypeName,
                id => ConsumerGroupEntity.PropsFor(id, settings), settings.MaxShards, handOffStopMessage: StopEntity.Instance);
        if (context.Hosts(RoleName))
        {
            akka.WithActors((system, _) => system.ActorOf(ConsumerLagSampler.PropsFor(settings), ConsumerLagSampler.ActorName));
        }
    }

    /// <inheritdoc />
    public void DescribeApi(ActorGrid.Http.HttpApiDescription api) => api.DescribeBroker();

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints) => endpoints.MapBrokerEndpoints();
}

/// <summary>Adds the broker role to a grid.</summary>
public static class BrokerGridBuilderExtensions
{
    /// <summary>
    /// Hosts the <c>broker</c> role (on nodes whose <c>ActorGrid:Roles</c> include it; others route to it).
    /// <paramref name="configure"/> adjusts the settings derived from the node options.
    /// </summary>
    public static ActorGridBuilder WithBroker(this ActorGridBuilder grid, Func<Settings, Settings>? configure = null) =>
        grid.AddRole(new BrokerRole(configure));
}
