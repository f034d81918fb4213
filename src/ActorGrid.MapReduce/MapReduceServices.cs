#nullable enable
using ActorGrid.Contracts;
using ActorGrid.MapReduce.Jobs;
using Akka.Actor;
using Akka.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.MapReduce;

/// <summary>
/// What the role's actors and endpoints use on a node: the job types, the settings, and the contracts of the other
/// roles (resolved from DI; absent when the grid does not run that role).
/// </summary>
internal sealed class MapReduceServices(MapReduceJobs jobs, MapReduceProtocol.Settings settings, IServiceProvider? services)
{
    public MapReduceJobs Jobs { get; } = jobs;

    public MapReduceProtocol.Settings Settings { get; } = settings;

    /// <summary>The key-value store, when the grid runs the <c>kv</c> role.</summary>
    public IKeyValueStore? KeyValue => services?.GetService<IKeyValueStore>();

    /// <summary>The broker's topic reader, when the grid runs the <c>broker</c> role.</summary>
    public ITopicReader? Topics => services?.GetService<ITopicReader>();

    /// <summary>The node's instance, from the actor system's service provider.</summary>
    public static MapReduceServices Of(ActorSystem system) =>
        DependencyResolver.For(system).Resolver.GetService<MapReduceServices>()
        ?? throw new InvalidOperationException("the mapreduce role's services are not registered");
}
