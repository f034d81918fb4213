#nullable enable
using ActorGrid.Configuration;
using Akka.Actor;
using Akka.Cluster;

namespace ActorGrid.Kafka;

/// <summary>A node as a Kafka broker: its node id, and where its Kafka listener is.</summary>
public sealed record KafkaBroker(int NodeId, string Host, int Port, Address Address);

/// <summary>
/// Every Up member that runs a Kafka listener, as Kafka brokers. A node id is a stable hash of the member's remoting
/// address, so it survives restarts on the same address and needs no coordination.
/// </summary>
internal sealed class KafkaBrokers(ActorSystem system, ActorGridOptions options)
{
    /// <summary>The live brokers, ordered by node id.</summary>
    public IReadOnlyList<KafkaBroker> Live()
    {
        var state = Cluster.Get(system).State;
        var brokers = new List<KafkaBroker>();
        foreach (var member in state.Members)
        {
            if (member.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp) || state.Unreachable.Contains(member))
            {
                continue;
            }

            var port = member.Roles.Where(r => r.StartsWith(KafkaFrontDoor.PortRolePrefix, StringComparison.Ordinal))
                .Select(r => int.TryParse(r.AsSpan(KafkaFrontDoor.PortRolePrefix.Length), out var p) ? p : 0)
                .FirstOrDefault();
            if (port > 0)
            {
                brokers.Add(new KafkaBroker(NodeIdOf(member.Address), member.Address.Host ?? options.AdvertisedHostname, port, member.Address));
            }
        }

        if (brokers.All(b => b.Address != Self.Address))
        {
            // Before this node is Up (or while it is unreachable to itself) it still answers as a broker.
            brokers.Add(Self);
        }

        return [.. brokers.OrderBy(b => b.NodeId)];
    }

    /// <summary>This node as a broker.</summary>
    public KafkaBroker Self
    {
        get
        {
            var address = Cluster.Get(system).SelfAddress;
            return new KafkaBroker(NodeIdOf(address), address.Host ?? options.AdvertisedHostname, options.Kafka.Port, address);
        }
    }

    /// <summary>The node id of the member at <paramref name="address"/>: FNV-1a of host:port, non-negative.</summary>
    public static int NodeIdOf(Address address)
    {
        var hash = 2166136261u;
        foreach (var c in $"{address.Host}:{address.Port}")
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash & 0x7fffffff);
    }
}
