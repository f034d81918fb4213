#nullable enable
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Coordination;

namespace ActorGrid.Coordination;

/// <summary>
/// What a sharded entity asks before it answers a strong read or acknowledges a write: does this node still own the
/// entity's shard? It is the shard's lease (<see cref="SqlLease"/>) judged on the local monotonic clock — a clock
/// read and a compare, no I/O — so a node that was paused or cut off stops answering the moment its right lapses,
/// before it has heard that another node took the shard over.
/// </summary>
public sealed class OwnershipFence
{
    private static readonly OwnershipFence Unfenced = new(null);
    private readonly Lease? _lease;

    private OwnershipFence(Lease? lease) => _lease = lease;

    /// <summary>Whether the entity may answer from its state and acknowledge what it wrote. No I/O.</summary>
    public bool IsValid => _lease?.CheckLease() ?? true;

    /// <summary>
    /// The fence of the entity whose context this is: its shard's lease when the entity runs in a cluster-sharding
    /// shard with <c>use-lease</c> configured (the same lease object the shard acquired), else none (always valid).
    /// </summary>
    public static OwnershipFence For(IActorContext context)
    {
        // Entity path: /system/sharding/<type name>/<shard id>/<entity id>.
        var path = context.Self.Path.Elements;
        var system = context.System;
        var configPath = system.Settings.Config.GetString("akka.cluster.sharding.use-lease", "");
        if (string.IsNullOrEmpty(configPath) || path.Count != 5 || path[0] != "system" || path[1] != "sharding")
        {
            return Unfenced;
        }

        // The name and owner Akka's Shard acquires under; LeaseProvider hands out that same instance.
        var typeName = Uri.UnescapeDataString(path[2]);
        var shardId = Uri.UnescapeDataString(path[3]);
        var lease = LeaseProvider.Get(system).GetLease(
            $"{system.Name}-shard-{typeName}-{shardId}", configPath, Cluster.Get(system).SelfAddress.HostPort());
        return new OwnershipFence(lease);
    }
}

/// <summary>
/// The reply of an entity whose node no longer provably owns it (<see cref="OwnershipFence"/>): nothing was read,
/// and a write it had taken may or may not have been stored — its outcome is unknown. Retry; the new owner answers.
/// </summary>
/// <param name="EntityId">The entity that refused.</param>
public sealed record OwnershipLapsed(string EntityId) : IActorGridMessage
{
    /// <summary>Manifest of <see cref="OwnershipLapsed"/>.</summary>
    public const string Manifest = "actorgrid.ownership-lapsed.v1";
}
