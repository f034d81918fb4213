#nullable enable
using System.Security.Cryptography;
using ActorGrid.Broker.Gateway;
using ActorGrid.Kafka.Protocol;
using ActorGrid.Security;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Kafka;

internal sealed partial class KafkaApiHandler
{
    /// <summary>
    /// InitProducerId v0-1 for idempotent producers: a fresh random 63-bit producer id with epoch 0 (no coordination
    /// needed; the broker keys its deduplication by producer id and epoch). Transactional ids are refused.
    /// </summary>
    private static KafkaWriter InitProducerId(short v, KafkaReader body)
    {
        var transactionalId = body.NullableString(false);
        body.Int32();
        var w = new KafkaWriter().Int32(0);
        return transactionalId is not null
            ? w.Int16(KafkaError.InvalidRequest).Int64(-1).Int16(-1)
            : w.Int16(KafkaError.None).Int64(RandomNumberGenerator.GetInt32(1, int.MaxValue) * (long)int.MaxValue + RandomNumberGenerator.GetInt32(int.MaxValue)).Int16(0);
    }

    /// <summary>ListGroups v0-2.</summary>
    private async Task<KafkaWriter> ListGroupsAsync(short v, KafkaSession session, CancellationToken cancellationToken)
    {
        short error = KafkaError.None;
        string[] groups = [];
        try
        {
            // Lists the groups the caller may read, as GET /groups does.
            groups = [.. (await gateway.ListGroupsAsync(cancellationToken)).Select(g => g.Description.Group)
                .Where(g => session.Deny(GridAccess.Read, GridResource.Group, g) == KafkaError.None)];
        }
        catch (Exception e)
        {
            LogUnexpected(e, "ListGroups");
            error = KafkaError.CoordinatorNotAvailable;
        }

        var w = new KafkaWriter();
        if (v >= 1)
        {
            w.Int32(0);
        }

        return w.Int16(error).Array(groups, false, (w, g) => w.String(g, false).String("consumer", false));
    }

    /// <summary>
    /// CreateTopics v0-4: partitions as asked (-1: <c>Kafka:AutoCreatePartitions</c>); the replication factor is
    /// accepted and ignored (the journal is the replica); configs retention.ms and retention.messages are honoured.
    /// </summary>
    private async Task<KafkaWriter> CreateTopicsAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var topics = body.Array(false, r =>
        {
            var name = r.String(false);
            var partitions = r.Int32();
            r.Int16();
            var assignments = r.Array(false, a => (a.Int32(), a.Array(false, b => b.Int32())));
            var configs = r.Array(false, c => (Name: c.String(false), Value: c.NullableString(false)));
            return (Name: name, Partitions: partitions, Assigned: assignments.Count, Configs: configs);
        });
        body.Int32();
        var validateOnly = v >= 1 && body.Bool();
        var results = await Task.WhenAll(topics.Select(async t =>
        {
            var partitions = t.Assigned > 0 ? t.Assigned : t.Partitions < 0 ? Math.Max(1, options.Kafka.AutoCreatePartitions) : t.Partitions;
            long? retentionMs = null;
            long? retentionMessages = null;
            foreach (var (name, value) in t.Configs)
            {
                if (name == "retention.ms" && long.TryParse(value, out var ms) && ms > 0)
                {
                    retentionMs = ms;
                }
                else if (name == "retention.messages" && long.TryParse(value, out var count) && count > 0)
                {
                    retentionMessages = count;
                }
            }

            if (session.Deny(GridAccess.Admin, GridResource.Topic, t.Name) is var denied and not KafkaError.None)
            {
                return (t.Name, denied, (string?)$"this token may not create topic '{t.Name}'");
            }

            if (partitions < 1)
            {
                return (t.Name, KafkaError.InvalidPartitions, (string?)$"partitions must be at least 1 (got {partitions})");
            }

            if (validateOnly)
            {
                return (t.Name, KafkaError.None, null);
            }

            try
            {
                var created = await gateway.CreateTopicAsync(
                    new TopicConfig(t.Name, partitions, retentionMessages, retentionMs is { } r ? Math.Max(1, r / 1000) : null), cancellationToken);
                return created.Outcome == TopicCreateOutcome.Created
                    ? (t.Name, KafkaError.None, null)
                    : (t.Name, KafkaError.TopicAlreadyExists, $"topic '{t.Name}' already exists");
            }
            catch (BrokerRequestException e)
            {
                return (t.Name, e.Status == 400 ? (e.Message.Contains("partitions", StringComparison.Ordinal) ? KafkaError.InvalidPartitions : KafkaError.InvalidTopic) : ErrorCode(e, KafkaError.RequestTimedOut), e.Message);
            }
            catch (Exception e)
            {
                LogUnexpected(e, "CreateTopics");
                return (t.Name, ErrorCode(e, KafkaError.RequestTimedOut), e.Message);
            }
        }));
        var w = new KafkaWriter();
        if (v >= 2)
        {
            w.Int32(0);
        }

        return w.Array(results, false, (w, r) =>
        {
            w.String(r.Name, false).Int16(r.Item2);
            if (v >= 1)
            {
                w.String(r.Item3, false);
            }
        });
    }

    /// <summary>DeleteTopics v0-3: the same deletion as <c>DELETE /topics/{topic}</c>; the timeout is the broker's own.</summary>
    private async Task<KafkaWriter> DeleteTopicsAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var names = body.Array(false, r => r.String(false));
        body.Int32();
        var results = await Task.WhenAll(names.Select(async name =>
        {
            if (session.Deny(GridAccess.Admin, GridResource.Topic, name) is var denied and not KafkaError.None)
            {
                return (name, denied);
            }

            try
            {
                await gateway.DeleteTopicAsync(name, cancellationToken);
                return (name, KafkaError.None);
            }
            catch (BrokerRequestException e) when (e.Status == 400)
            {
                return (name, KafkaError.InvalidTopic);
            }
            catch (Exception e)
            {
                return (name, ErrorCode(e, KafkaError.RequestTimedOut));
            }
        }));
        var w = new KafkaWriter();
        if (v >= 1)
        {
            w.Int32(0);
        }

        return w.Array(results, false, (w, r) => w.String(r.name, false).Int16(r.Item2));
    }
}
