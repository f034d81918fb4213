#nullable enable
using ActorGrid.Broker.Gateway;
using ActorGrid.Broker.Topics;
using ActorGrid.Kafka.Protocol;
using ActorGrid.Security;
using Microsoft.Extensions.Logging;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Kafka;

internal sealed partial class KafkaApiHandler
{
    /// <summary>
    /// Metadata v0-9: every live node is a broker; a partition's leader is the node whose shard region holds the
    /// partition's entity (when none does yet, a node picked by the partition's hash). Any broker serves any
    /// partition, so the leader only says where a request costs no forwarding.
    /// </summary>
    private async Task<KafkaWriter> MetadataAsync(short v, bool flex, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var requested = body.NullableArray(flex, r =>
        {
            var name = r.String(flex);
            r.TaggedFields(flex);
            return name;
        });
        var autoCreate = v < 4 || body.Bool();
        if (v == 0 && requested is { Count: 0 })
        {
            requested = null; // v0: an empty list means every topic
        }

        var topics = new List<(string Name, short Error, TopicConfig? Config)>();
        if (requested is null)
        {
            try
            {
                // Lists the topics the caller may read, as GET /topics does.
                topics.AddRange((await gateway.ListTopicsAsync(cancellationToken))
                    .Where(t => session.Deny(GridAccess.Read, GridResource.Topic, t.Config.Name) == KafkaError.None)
                    .Select(t => (t.Config.Name, KafkaError.None, (TopicConfig?)t.Config)));
            }
            catch (Exception e) when (e is BrokerRequestException or Akka.Actor.AskTimeoutException)
            {
                // Metadata has no error of its own: answer the brokers, the client asks again for the topics.
                log.LogWarning("Listing topics for Kafka Metadata failed: {Reason}", e.Message);
            }
        }
        else
        {
            topics.AddRange(await Task.WhenAll(requested.Distinct(StringComparer.Ordinal).Select(name => ResolveTopicAsync(name, autoCreate, session, cancellationToken))));
        }

        var live = brokers.Live();
        var owners = await gateway.PartitionOwnersAsync(topics.Where(t => t.Config is not null).Select(t => t.Config!), cancellationToken);
        var w = new KafkaWriter(1024);
        if (v >= 3)
        {
            w.Int32(0);
        }

        w.Array(live, flex, (w, b) =>
        {
            w.Int32(b.NodeId).String(b.Host, flex).Int32(b.Port);
            if (v >= 1)
            {
                w.String(null, flex);
            }

            w.TaggedFields(flex);
        });
        if (v >= 2)
        {
            w.String(options.ClusterName, flex);
        }

        if (v >= 1)
        {
            w.Int32(brokers.Self.NodeId);
        }

        w.Array(topics, flex, (w, t) =>
        {
            w.Int16(t.Error).String(t.Name, flex);
            if (v >= 1)
            {
                w.Bool(false);
            }

            var partitions = t.Config is null ? [] : Enumerable.Range(0, t.Config.Partitions).ToList();
            w.Array(partitions, flex, (w, p) =>
            {
                var leader = LeaderOf(live, owners.GetValueOrDefault(new TopicPartition(t.Name, p)), t.Name, p);
                w.Int16(KafkaError.None).Int32(p).Int32(leader);
                if (v >= 7)
                {
                    w.Int32(0);
                }

                w.ArrayLength(1, flex).Int32(leader);
                w.ArrayLength(1, flex).Int32(leader);
                if (v >= 5)
                {
                    w.ArrayLength(0, flex);
                }

                w.TaggedFields(flex);
            });
            if (v >= 8)
            {
                w.Int32(int.MinValue);
            }

            w.TaggedFields(flex);
        });
        if (v >= 8)
        {
            w.Int32(int.MinValue);
        }

        return w.TaggedFields(flex);
    }

    /// <summary>FindCoordinator v0-2: this node (every node reaches every group's entity; there is no coordinator to move to).</summary>
    private KafkaWriter FindCoordinator(short v, KafkaReader body)
    {
        body.String(false);
        var keyType = v >= 1 ? body.Int8() : (sbyte)0;
        var self = brokers.Self;
        var w = new KafkaWriter();
        if (v >= 1)
        {
            w.Int32(0);
        }

        if (keyType != 0)
        {
            // Transaction coordinators: transactions are not supported.
            w.Int16(KafkaError.CoordinatorNotAvailable);
            if (v >= 1)
            {
                w.String("transactions are not supported", false);
            }

            return w.Int32(-1).String("", false).Int32(-1);
        }

        w.Int16(KafkaError.None);
        if (v >= 1)
        {
            w.String(null, false);
        }

        return w.Int32(self.NodeId).String(self.Host, false).Int32(self.Port);
    }

    /// <summary>A requested topic: refused unless the caller may read it; auto-created only when it may create it (admin, as PUT /topics).</summary>
    private async Task<(string Name, short Error, TopicConfig? Config)> ResolveTopicAsync(string name, bool autoCreate, KafkaSession session, CancellationToken cancellationToken)
    {
        if (!BrokerNames.IsValid(name))
        {
            return (name, KafkaError.InvalidTopic, null);
        }

        if (session.Deny(GridAccess.Read, GridResource.Topic, name) is var denied and not KafkaError.None)
        {
            return (name, denied, null);
        }

        autoCreate &= session.Deny(GridAccess.Admin, GridResource.Topic, name) == KafkaError.None;

        try
        {
            if (await gateway.FindTopicAsync(name, cancellationToken) is { } config)
            {
                return (name, KafkaError.None, config);
            }

            if (!autoCreate || options.Kafka.AutoCreatePartitions == 0)
            {
                return (name, KafkaError.UnknownTopicOrPartition, null);
            }

            var created = await gateway.CreateTopicAsync(new TopicConfig(name, options.Kafka.AutoCreatePartitions, null, null), cancellationToken);
            return (name, KafkaError.None, created.Config);
        }
        catch (Exception e) when (e is BrokerRequestException or Akka.Actor.AskTimeoutException)
        {
            return (name, ErrorCode(e, KafkaError.LeaderNotAvailable), null);
        }
    }

    private static int LeaderOf(IReadOnlyList<KafkaBroker> live, Akka.Actor.Address? owner, string topic, int partition)
    {
        if (owner is not null && live.FirstOrDefault(b => b.Address == owner) is { } broker)
        {
            return broker.NodeId;
        }

        // Not allocated (or on a node without a listener): a stable pick that spreads partitions over the brokers.
        var hash = (uint)KeyPartitioner.ForKey($"{topic}/{partition}", int.MaxValue);
        return live[(int)(hash % (uint)live.Count)].NodeId;
    }
}
