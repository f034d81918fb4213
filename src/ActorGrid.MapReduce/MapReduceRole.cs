#nullable enable
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.MapReduce.Jobs;
using ActorGrid.Serialization;
using Akka.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>Registry key of the job coordinators' shard region (or proxy).</summary>
public sealed class JobCoordinatorRegion
{
    private JobCoordinatorRegion()
    {
    }
}

/// <summary>Registry key of the reduce partitions' shard region (or proxy).</summary>
public sealed class ReducePartitionRegion
{
    private ReducePartitionRegion()
    {
    }
}

/// <summary>Registry key of the job index's shard region (or proxy).</summary>
public sealed class JobIndexRegion
{
    private JobIndexRegion()
    {
    }
}

/// <summary>
/// The <c>mapreduce</c> role: job coordinators (remembered sharded entities), reduce partitions and the job index as
/// sharded persistent entities, a map worker on every node hosting the role, and the <c>/jobs</c> HTTP API. It uses
/// the KV store and the broker only through <see cref="ActorGrid.Contracts"/>.
/// </summary>
public sealed class MapReduceRole(MapReduceJobs jobs, Settings? settings = null) : IGridRole
{
    private const int MaxShards = 64;

    /// <inheritdoc />
    public string Name => RoleName;

    /// <inheritdoc />
    public IReadOnlyList<string> ShardTypeNames { get; } = [CoordinatorTypeName, ReducerTypeName, IndexTypeName];

    /// <summary>The job types this node runs.</summary>
    public MapReduceJobs Jobs => jobs;

    /// <summary>The effective settings for a node with <paramref name="options"/>: those given to the role, else <c>ActorGrid:MapReduce</c>.</summary>
    public Settings SettingsFor(ActorGridOptions options) => settings ?? Settings.Create(options, Environment.ProcessorCount);

    /// <inheritdoc />
    public void RegisterManifests(ManifestRegistry manifests) => MapReduceProtocol.RegisterManifests(manifests);

    /// <inheritdoc />
    public void AddServices(IServiceCollection services) =>
        services.AddSingleton(provider => new MapReduceServices(jobs, SettingsFor(provider.GetRequiredService<ActorGridOptions>()), provider));

    /// <inheritdoc />
    public void Configure(AkkaConfigurationBuilder akka, GridContext context)
    {
        akka.WithGridRegion<JobCoordinatorRegion>(context, RoleName, CoordinatorTypeName, id => JobCoordinator.Props(id), MaxShards, rememberEntities: true,
                handOffStopMessage: StopEntity.Instance)
            .WithGridRegion<ReducePartitionRegion>(context, RoleName, ReducerTypeName, id => ReducePartition.Props(id), MaxShards,
                handOffStopMessage: StopEntity.Instance)
            .WithGridRegion<JobIndexRegion>(context, RoleName, IndexTypeName, id => JobIndex.Props(id), 1, handOffStopMessage: StopEntity.Instance);
        if (context.Hosts(RoleName))
        {
            akka.WithActors((system, _, resolver) =>
                system.ActorOf(MapReduceWorker.Props(resolver.GetService<MapReduceServices>()), WorkerActorName));
        }
    }

    /// <inheritdoc />
    public void DescribeApi(Http.HttpApiDescription api) => api.DescribeMapReduce();

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints) => endpoints.MapMapReduceEndpoints();
}

/// <summary>Adds the MapReduce role to a grid.</summary>
public static class MapReduceGridExtensions
{
    /// <summary>
    /// Adds the <c>mapreduce</c> role (SPEC §5). <paramref name="jobs"/> registers job types of your own next to the
    /// built-in ones — do the same on every node; <paramref name="settings"/> replaces the settings bound from
    /// <c>ActorGrid:MapReduce</c>.
    /// </summary>
    /// <example><code>grid.WithMapReduce(jobs => jobs.Add&lt;SessionLengthJob&gt;("session-length"));</code></example>
    public static ActorGridBuilder WithMapReduce(this ActorGridBuilder grid, Action<MapReduceJobs>? jobs = null, Settings? settings = null)
    {
        var registry = new MapReduceJobs();
        jobs?.Invoke(registry);
        return grid.AddRole(new MapReduceRole(registry, settings));
    }
}
