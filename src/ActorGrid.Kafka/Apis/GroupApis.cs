#nullable enable
using ActorGrid.Broker.Gateway;
using ActorGrid.Kafka.Protocol;
using ActorGrid.Security;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Kafka;

internal sealed partial class KafkaApiHandler
{
    private static short GroupError(ClassicGroupError error) => error switch
    {
        ClassicGroupError.None => KafkaError.None,
        ClassicGroupError.UnknownMember => KafkaError.UnknownMemberId,
        ClassicGroupError.IllegalGeneration => KafkaError.IllegalGeneration,
        ClassicGroupError.RebalanceInProgress => KafkaError.RebalanceInProgress,
        _ => KafkaError.InconsistentGroupProtocol,
    };

    private static short GroupError(Exception e) => e is BrokerRequestException { Status: 400 } ? KafkaError.InvalidGroupId : ErrorCode(e, KafkaError.CoordinatorNotAvailable);

    /// <summary>JoinGroup v0-5 (the member id is always given by the broker; no MEMBER_ID_REQUIRED round trip).</summary>
    private async Task<KafkaWriter> JoinGroupAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var group = body.String(false);
        var sessionTimeout = body.Int32();
        var rebalanceTimeout = v >= 1 ? body.Int32() : sessionTimeout;
        var memberId = body.String(false);
        if (v >= 5)
        {
            body.NullableString(false); // group instance id: static membership is not supported, members are dynamic
        }

        var protocolType = body.String(false);
        var protocols = body.Array(false, r => new ClassicProtocol(r.String(false), r.NullableBytes(false) ?? []));
        ClassicJoinResult result;
        if (session.Deny(GridAccess.Write, GridResource.Group, group) is var denied and not KafkaError.None)
        {
            return WriteJoin(v, denied, new ClassicJoinResult(ClassicGroupError.None, -1, "", "", memberId, []));
        }

        var settings = gateway.Settings;
        if (sessionTimeout < settings.MinSessionTimeout.TotalMilliseconds || sessionTimeout > settings.MaxSessionTimeout.TotalMilliseconds)
        {
            result = new ClassicJoinResult(ClassicGroupError.None, -1, "", "", memberId, []);
            return WriteJoin(v, KafkaError.InvalidSessionTimeout, result);
        }

        try
        {
            result = await gateway.JoinClassicAsync(
                new JoinClassicGroup(group, memberId, session.ClientId, session.Remote, sessionTimeout, rebalanceTimeout, protocolType, [.. protocols]), cancellationToken);
        }
        catch (Exception e)
        {
            LogUnexpected(e, "JoinGroup");
            return WriteJoin(v, GroupError(e), new ClassicJoinResult(ClassicGroupError.None, -1, "", "", memberId, []));
        }

        return WriteJoin(v, GroupError(result.Error), result);
    }

    private static KafkaWriter WriteJoin(short v, short error, ClassicJoinResult result)
    {
        var w = new KafkaWriter();
        if (v >= 2)
        {
            w.Int32(0);
        }

        w.Int16(error).Int32(result.Generation).String(result.ProtocolName, false).String(result.LeaderId, false).String(result.MemberId, false);
        w.Array(result.Members, false, (w, m) =>
        {
            w.String(m.MemberId, false);
            if (v >= 5)
            {
                w.String(null, false);
            }

            w.Bytes(m.Metadata, false);
        });
        return w;
    }

    /// <summary>SyncGroup v0-3.</summary>
    private async Task<KafkaWriter> SyncGroupAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var group = body.String(false);
        var generation = body.Int32();
        var memberId = body.String(false);
        if (v >= 3)
        {
            body.NullableString(false);
        }

        var assignments = body.Array(false, r => new ClassicAssignment(r.String(false), r.NullableBytes(false) ?? []));
        var error = session.Deny(GridAccess.Write, GridResource.Group, group);
        byte[] assignment = [];
        try
        {
            var result = error != KafkaError.None ? null : await gateway.SyncClassicAsync(new SyncClassicGroup(group, memberId, generation, [.. assignments]), cancellationToken);
            if (result is not null)
            {
                error = GroupError(result.Error);
                assignment = result.Assignment;
            }
        }
        catch (Exception e)
        {
            LogUnexpected(e, "SyncGroup");
            error = GroupError(e);
        }

        var w = new KafkaWriter();
        if (v >= 1)
        {
            w.Int32(0);
        }

        return w.Int16(error).Bytes(assignment, false);
    }

    /// <summary>Heartbeat v0-3.</summary>
    private async Task<KafkaWriter> HeartbeatAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var group = body.String(false);
        var generation = body.Int32();
        var memberId = body.String(false);
        return ErrorOnly(v >= 1, await ClassicAsync(session, group, new ClassicHeartbeat(group, memberId, generation), "Heartbeat", cancellationToken));
    }

    /// <summary>LeaveGroup v0-1.</summary>
    private async Task<KafkaWriter> LeaveGroupAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var group = body.String(false);
        var memberId = body.String(false);
        return ErrorOnly(v >= 1, await ClassicAsync(session, group, new LeaveClassicGroup(group, [memberId]), "LeaveGroup", cancellationToken));
    }

    /// <summary>A group command, refused with GROUP_AUTHORIZATION_FAILED unless the caller may write the group (as the HTTP group endpoints).</summary>
    private async Task<short> ClassicAsync(KafkaSession session, string group, Grid.IWithEntityId command, string api, CancellationToken cancellationToken)
    {
        if (session.Deny(GridAccess.Write, GridResource.Group, group) is var denied and not KafkaError.None)
        {
            return denied;
        }

        try
        {
            return GroupError((await gateway.ClassicAsync(command, cancellationToken)).Error);
        }
        catch (Exception e)
        {
            LogUnexpected(e, api);
            return GroupError(e);
        }
    }

    private static KafkaWriter ErrorOnly(bool throttle, short error)
    {
        var w = new KafkaWriter();
        if (throttle)
        {
            w.Int32(0);
        }

        return w.Int16(error);
    }

    /// <summary>OffsetCommit v2-7: durable when answered; the same committed offsets the HTTP API shows.</summary>
    private async Task<KafkaWriter> OffsetCommitAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var group = body.String(false);
        var generation = body.Int32();
        var memberId = body.String(false);
        if (v <= 4)
        {
            body.Int64(); // retention time
        }

        if (v >= 7)
        {
            body.NullableString(false);
        }

        var topics = body.Array(false, r => (Name: r.String(false), Partitions: r.Array(false, p =>
        {
            var partition = p.Int32();
            var offset = p.Int64();
            if (v >= 6)
            {
                p.Int32();
            }

            p.NullableString(false); // metadata: not kept
            return (Partition: partition, Offset: offset);
        })));
        // Offsets of topics the caller may not read are refused (TOPIC_AUTHORIZATION_FAILED); the others are committed.
        var topicErrors = topics.Select(t => t.Name).Distinct(StringComparer.Ordinal)
            .ToDictionary(t => t, t => session.Deny(GridAccess.Read, GridResource.Topic, t), StringComparer.Ordinal);
        var offsets = topics.Where(t => topicErrors[t.Name] == KafkaError.None)
            .SelectMany(t => t.Partitions.Select(p => new PartitionOffset(t.Name, p.Partition, p.Offset))).ToArray();
        var error = offsets.Length == 0 && topics.Count > 0
            ? session.Deny(GridAccess.Write, GridResource.Group, group)
            : await ClassicAsync(session, group, new CommitClassicOffsets(group, memberId, generation, offsets), "OffsetCommit", cancellationToken);
        var w = new KafkaWriter();
        if (v >= 3)
        {
            w.Int32(0);
        }

        return w.Array(topics, false, (w, t) =>
        {
            w.String(t.Name, false);
            w.Array(t.Partitions, false, (w, p) => w.Int32(p.Partition).Int16(error != KafkaError.None ? error : topicErrors[t.Name]));
        });
    }

    /// <summary>OffsetFetch v1-5 (null topics from v2: every committed partition).</summary>
    private async Task<KafkaWriter> OffsetFetchAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var group = body.String(false);
        var topics = body.NullableArray(false, r => (Name: r.String(false), Partitions: r.Array(false, p => p.Int32())));
        var error = session.Deny(GridAccess.Read, GridResource.Group, group);
        var committed = new Dictionary<(string, int), long>();
        try
        {
            var view = error != KafkaError.None ? null : await gateway.DescribeClassicAsync(group, cancellationToken);
            foreach (var c in view?.Committed ?? [])
            {
                committed[(c.Topic, c.Partition)] = c.Offset;
            }
        }
        catch (Exception e)
        {
            LogUnexpected(e, "OffsetFetch");
            error = GroupError(e);
        }

        topics ??= [.. committed.Keys.GroupBy(k => k.Item1)
            .Where(g => session.Deny(GridAccess.Read, GridResource.Topic, g.Key) == KafkaError.None)
            .Select(g => (g.Key, g.Select(k => k.Item2).Order().ToList()))];
        var w = new KafkaWriter();
        if (v >= 3)
        {
            w.Int32(0);
        }

        w.Array(topics, false, (w, t) =>
        {
            w.String(t.Name, false);
            var topicError = session.Deny(GridAccess.Read, GridResource.Topic, t.Name);
            w.Array(t.Partitions, false, (w, p) =>
            {
                w.Int32(p).Int64(topicError == KafkaError.None && committed.TryGetValue((t.Name, p), out var offset) ? offset : -1);
                if (v >= 5)
                {
                    w.Int32(-1);
                }

                w.String("", false).Int16(v < 2 && error != KafkaError.None ? error : topicError);
            });
        });
        if (v >= 2)
        {
            w.Int16(error);
        }

        return w;
    }

    /// <summary>DescribeGroups v0-4.</summary>
    private async Task<KafkaWriter> DescribeGroupsAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var groups = body.Array(false, r => r.String(false));
        if (v >= 3)
        {
            body.Bool();
        }

        var views = await Task.WhenAll(groups.Select(async g =>
        {
            if (session.Deny(GridAccess.Read, GridResource.Group, g) is var denied and not KafkaError.None)
            {
                return (g, denied, (ClassicGroupView?)null);
            }

            try
            {
                return (g, KafkaError.None, await gateway.DescribeClassicAsync(g, cancellationToken));
            }
            catch (Exception e)
            {
                LogUnexpected(e, "DescribeGroups");
                return (g, GroupError(e), (ClassicGroupView?)null);
            }
        }));
        var w = new KafkaWriter();
        if (v >= 1)
        {
            w.Int32(0);
        }

        w.Array(views, false, (w, g) =>
        {
            var (name, error, view) = g;
            var state = view is null ? "Dead" : view.Members.Length == 0 && view.Generation == 0 && view.Committed.Length == 0 ? "Dead" : view.State;
            w.Int16(error).String(name, false).String(state, false).String(view?.ProtocolType ?? "", false).String(view?.ProtocolName ?? "", false);
            w.Array(view?.Members ?? [], false, (w, m) =>
            {
                w.String(m.MemberId, false);
                if (v >= 4)
                {
                    w.String(null, false);
                }

                w.String(m.ClientId, false).String(m.ClientHost, false).Bytes(m.Metadata, false).Bytes(m.Assignment, false);
            });
            if (v >= 3)
            {
                w.Int32(int.MinValue);
            }
        });
        return w;
    }
}
