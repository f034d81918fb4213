#nullable enable
using ActorGrid.Grid;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Entities;

/// <summary>
/// A user-defined role made of one sharded, event-sourced entity type run by <see cref="GridEntity{TState, TCommand, TEvent}"/>.
/// Services call it through <see cref="GridEntityClient{TCommand}"/> from DI.
/// </summary>
public sealed class GridEntityRole<TState, TCommand, TEvent>(
    string name,
    Func<IEntityBehavior<TState, TCommand, TEvent>> behavior,
    Action<ManifestRegistry> manifests,
    int maxNumberOfShards = 100) : IGridRole
    where TState : notnull
    where TCommand : notnull, IWithEntityId
    where TEvent : notnull
{
    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public IReadOnlyList<string> ShardTypeNames { get; } = [name];

    /// <inheritdoc />
    public void RegisterManifests(ManifestRegistry registry) => manifests(registry);

    /// <inheritdoc />
    public void AddServices(IServiceCollection services) =>
        services.AddSingleton(sp =>
        {
            var registry = sp.GetRequiredService<ActorRegistry>();
            return new GridEntityClient<TCommand>(() => registry.Get<GridEntityRole<TState, TCommand, TEvent>>());
        });

    /// <inheritdoc />
    public void Configure(AkkaConfigurationBuilder akka, GridContext context)
    {
        var snapshotEvery = context.Options.Persistence.SnapshotEvery;
        akka.WithGridRegion<GridEntityRole<TState, TCommand, TEvent>>(
            context, name, name, id => Props.Create(() => new GridEntity<TState, TCommand, TEvent>(name, id, behavior(), snapshotEvery)), maxNumberOfShards);
    }
}

/// <summary>Sends commands to the sharded entities of one <see cref="GridEntityRole{TState, TCommand, TEvent}"/>, from any node.</summary>
public sealed class GridEntityClient<TCommand>(Func<IActorRef> region)
    where TCommand : IWithEntityId
{
    /// <summary>The shard region (or proxy) routing to the entities.</summary>
    public IActorRef Region => region();

    /// <summary>Sends <paramref name="command"/> to its entity and waits for the reply (sent once its events are durable).</summary>
    public Task<TReply> AskAsync<TReply>(TCommand command, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Region.Ask<TReply>(command, timeout ?? TimeSpan.FromSeconds(10), cancellationToken);

    /// <summary>Sends <paramref name="command"/> without waiting.</summary>
    public void Tell(TCommand command, IActorRef? sender = null) => Region.Tell(command, sender ?? ActorRefs.NoSender);
}

/// <summary>Registers user-defined grid entities.</summary>
public static class GridEntityBuilderExtensions
{
    /// <summary>
    /// Adds a role <paramref name="name"/> whose entities run <paramref name="behavior"/>: sharded across the nodes
    /// that host the role, persisted with group commit, recovered on a survivor when their node dies.
    /// </summary>
    public static ActorGridBuilder WithEntity<TState, TCommand, TEvent>(
        this ActorGridBuilder grid,
        string name,
        Func<IEntityBehavior<TState, TCommand, TEvent>> behavior,
        Action<ManifestRegistry> manifests)
        where TState : notnull
        where TCommand : notnull, IWithEntityId
        where TEvent : notnull =>
        grid.AddRole(new GridEntityRole<TState, TCommand, TEvent>(name, behavior, manifests));
}
