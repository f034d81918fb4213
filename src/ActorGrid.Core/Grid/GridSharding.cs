#nullable enable
using ActorGrid.Configuration;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;

namespace ActorGrid.Grid;

/// <summary>A message addressed to one sharded entity.</summary>
public interface IWithEntityId
{
    /// <summary>The entity the message is for.</summary>
    string EntityId { get; }
}

/// <summary>
/// Places entities on shards with Akka's stable MurmurHash of the entity id (never <c>string.GetHashCode</c>,
/// which differs per process).
/// </summary>
public sealed class GridMessageExtractor(int maxNumberOfShards) : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <inheritdoc />
    public override string? EntityId(object message) => (message as IWithEntityId)?.EntityId;
}

/// <summary>Sharding conventions shared by every role.</summary>
public static class GridSharding
{
    /// <summary>
    /// Starts a shard region for <paramref name="typeName"/> where this node hosts <paramref name="role"/>, and a
    /// proxy elsewhere, so every node can route to the entities. Registered in the ActorRegistry under
    /// <typeparamref name="TMarker"/>. <paramref name="handOffStopMessage"/> is what an entity receives when its
    /// shard hands off or it is passivated (default <c>PoisonPill</c>); an entity that group-commits uses its own
    /// message to finish the journal write in flight, so that a graceful leave fails no request.
    /// </summary>
    public static AkkaConfigurationBuilder WithGridRegion<TMarker>(
        this AkkaConfigurationBuilder akka,
        GridContext context,
        string role,
        string typeName,
        Func<string, Props> entityProps,
        int maxNumberOfShards,
        bool rememberEntities = false,
        object? handOffStopMessage = null)
    {
        var extractor = new GridMessageExtractor(maxNumberOfShards);
        if (!context.Hosts(role))
        {
            return akka.WithShardRegionProxy<TMarker>(typeName, role, extractor);
        }

        var options = new ShardOptions
        {
            Role = role,
            StateStoreMode = StateStoreMode.DData,
            RememberEntities = rememberEntities,
            RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
            JournalPluginId = ActorGridHocon.ShardingJournalPluginId,
            SnapshotPluginId = ActorGridHocon.ShardingSnapshotPluginId,
            PassivateIdleEntityAfter = rememberEntities ? null : TimeSpan.FromMinutes(10),
            ShouldPassivateIdleEntities = !rememberEntities,
        };
        if (handOffStopMessage is not null)
        {
            options.HandOffStopMessage = handOffStopMessage;
        }

        return akka.WithShardRegion<TMarker>(typeName, entityProps, extractor, options);
    }
}
