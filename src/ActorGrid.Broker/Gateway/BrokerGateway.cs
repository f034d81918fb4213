#nullable enable
using System.Collections.Concurrent;
using ActorGrid.Broker.Groups;
using ActorGrid.Broker.Topics;
using ActorGrid.Grid;
using ActorGrid.Security;
using ActorGrid.Broker.Observability;
using ActorGrid.Observability;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Http;
using static ActorGrid.Broker.BrokerProtocol;
using Settings = ActorGrid.Broker.BrokerProtocol.Settings;

namespace ActorGrid.Broker.Gateway;

/// <summary>A record to produce.</summary>
public sealed record ProduceRecord(string? Key, byte[] Value);

/// <summary>Where a produced record went.</summary>
public readonly record struct ProducedRecord(int Partition, long Offset);

/// <summary>A topic with the offsets of its partitions.</summary>
public sealed record TopicDescription(TopicConfig Config, PartitionInfoReply[] Partitions);

/// <summary>A record delivered to a group member.</summary>
public sealed record GroupRecord(string Topic, int Partition, StoredRecord Record);

/// <summary>What a poll returns: the generation, the member's partitions and the records.</summary>
public sealed record GroupPollResult(int Generation, TopicPartition[] Assignments, GroupRecord[] Records);

/// <summary>A partition's committed offset and lag in a group.</summary>
public sealed record PartitionLag(string Topic, int Partition, long? Committed, long StartOffset, long EndOffset, long Lag);

/// <summary>A group with its lag per partition.</summary>
public sealed record GroupView(GroupDescription Description, PartitionLag[] Partitions)
{
    /// <summary>Total lag over the subscribed partitions.</summary>
    public long TotalLag => Partitions.Sum(p => p.Lag);
}

/// <summary>
/// The broker's edge on one node: validates requests, routes them to the entities that own the data (on whichever
/// node) and combines the answers. Requests are asked with a timeout; refusals become
/// <see cref="BrokerRequestException"/>s carrying the HTTP status.
/// </summary>
public sealed partial class BrokerGateway(ActorSystem system, Settings settings)
{
    /// <summary>
    /// How long a node trusts a topic configuration it read: a topic never changes, but it can be deleted and created
    /// again (perhaps with another partition count), which other nodes learn within this time.
    /// </summary>
    internal static readonly TimeSpan TopicCacheTime = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, (TopicConfig Config, long ReadAt)> _topics = new(StringComparer.Ordinal);
    private readonly BrokerMetrics _metrics = BrokerMetrics.For(system);
    private long _roundRobin = -1;

    /// <summary>The settings in force.</summary>
    public Settings Settings { get; } = settings;

    // ---------------------------------------------------------------- topics

    /// <summary>Creates a topic, or finds it identical (AlreadyExists) or different (Conflict).</summary>
    public async Task<CreateTopicResult> CreateTopicAsync(TopicConfig config, CancellationToken cancellationToken)
    {
        RequireName("topic", config.Name);
        if (config.Partitions < 1 || config.Partitions > Settings.MaxPartitions)
        {
            throw BrokerRequestException.BadRequest($"partitions must be between 1 and {Settings.MaxPartitions} (got {config.Partitions})");
        }

        if (config.RetentionMessages is < 1)
        {
            throw BrokerRequestException.BadRequest($"retentionMessages must be at least 1 or null (got {config.RetentionMessages})");
        }

        if (config.RetentionSeconds is < 1 or > long.MaxValue / 1000)
        {
            throw BrokerRequestException.BadRequest($"retentionSeconds must be at least 1 or null (got {config.RetentionSeconds})");
        }

        if (await FindTopicAsync(config.Name, cancellationToken) is null)
        {
            // A soft cap (two creations racing may both pass): it bounds the directory and the entities a client can make.
            var names = await AskAsync<TopicListReply>(Region<TopicDirectoryRegion>(), new ListTopics(), Settings.AskTimeout, cancellationToken);
            if (names.Topics.Length >= Settings.MaxTopics)
            {
                throw new BrokerRequestException(StatusCodes.Status409Conflict, "Conflict",
                    $"the grid has {names.Topics.Length} topics, the most allowed ({Settings.MaxTopics})");
            }
        }

        var result = await AskAsync<CreateTopicResult>(Region<TopicRegion>(), new CreateTopic(config), Settings.AskTimeout, cancellationToken);
        _topics[result.Config.Name] = (result.Config, Environment.TickCount64);
        return result;
    }

    /// <summary>
    /// Deletes a topic (SPEC §15): first its metadata, so its partitions refuse it from then on, then every
    /// partition's records and snapshots, then its directory entry. 404 when there is no such topic. A delete that
    /// failed half-way (503) is finished by asking again, which then answers 404. A topic created again under the
    /// same name starts empty; its offsets continue where the deleted one's ended (the journal keeps each log's
    /// highest sequence number), so offsets committed for the old topic never point into the new one's records.
    /// </summary>
    public async Task DeleteTopicAsync(string topic, CancellationToken cancellationToken)
    {
        RequireName("topic", topic);
        var result = await AskAsync<DeleteTopicResult>(Region<TopicRegion>(), new DeleteTopic(topic), Settings.AskTimeout, cancellationToken);
        _topics.TryRemove(topic, out _);
        if (result.Config is { } config)
        {
            await Task.WhenAll(Enumerable.Range(0, config.Partitions).Select(p =>
                AskAsync<PartitionDeleted>(Region<TopicPartitionRegion>(), new DeletePartition(topic, p), Settings.AskTimeout, cancellationToken)));
            await AskAsync<UnregisterTopicResult>(Region<TopicDirectoryRegion>(), new UnregisterTopic(topic), Settings.AskTimeout, cancellationToken);
        }

        if (!result.Deleted)
        {
            throw BrokerRequestException.NotFound($"topic '{topic}' does not exist");
        }
    }

    /// <summary>A topic's configuration; 404 when it does not exist. Cached for <see cref="TopicCacheTime"/>.</summary>
    public async Task<TopicConfig> GetTopicAsync(string topic, CancellationToken cancellationToken)
    {
        RequireName("topic", topic);
        return await FindTopicAsync(topic, cancellationToken)
               ?? throw BrokerRequestException.NotFound($"topic '{topic}' does not exist");
    }

    /// <summary>Every topic with its partitions' offsets, by name.</summary>
    public async Task<TopicDescription[]> ListTopicsAsync(CancellationToken cancellationToken)
    {
        var names = await AskAsync<TopicListReply>(Region<TopicDirectoryRegion>(), new ListTopics(), Settings.AskTimeout, cancellationToken);
        var configs = await Task.WhenAll(names.Topics.Select(t => FindTopicAsync(t, cancellationToken)));
        // The directory may hold a name whose creation failed after registering it: skip those.
        return await Task.WhenAll(configs.OfType<TopicConfig>().Select(c => DescribeTopicAsync(c, cancellationToken)));
    }

    /// <summary>A topic with its partitions' start and end offsets.</summary>
    public async Task<TopicDescription> DescribeTopicAsync(TopicConfig config, CancellationToken cancellationToken)
    {
        var partitions = await Task.WhenAll(Enumerable.Range(0, config.Partitions).Select(p =>
            AskAsync<PartitionInfoReply>(Region<TopicPartitionRegion>(), new GetPartitionInfo(config.Name, p), Settings.AskTimeout, cancellationToken)));
        return new TopicDescription(config, partitions);
    }

    /// <summary>One partition's start and end offsets.</summary>
    public async Task<PartitionInfoReply> GetPartitionInfoAsync(string topic, int partition, CancellationToken cancellationToken)
    {
        RequirePartition(await GetTopicAsync(topic, cancellationToken), partition);
        return await AskAsync<PartitionInfoReply>(Region<TopicPartitionRegion>(), new GetPartitionInfo(topic, partition), Settings.AskTimeout, cancellationToken);
    }

    // ---------------------------------------------------------------- produce / fetch

    /// <summary>
    /// Appends <paramref name="records"/> to <paramref name="topic"/> and returns once all are durable. Keyed records
    /// go to the key's partition; unkeyed ones round-robin (or, with a producer id, by (producer, sequence) so that a
    /// retry reaches the same partitions). With <paramref name="producerId"/>, record i has sequence
    /// <paramref name="sequence"/> + i and a retry appends nothing twice.
    /// </summary>
    public async Task<ProducedRecord[]> ProduceAsync(
        string topic, string? producerId, long? sequence, IReadOnlyList<ProduceRecord> records, CancellationToken cancellationToken)
    {
        ValidateProduce(producerId, sequence, records);
        var config = await GetTopicAsync(topic, cancellationToken);
        var partitionOf = new int[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            partitionOf[i] = records[i].Key is { } key ? KeyPartitioner.ForKey(key, config.Partitions)
                : producerId is not null ? KeyPartitioner.ForProducerSequence(producerId, sequence!.Value + i, config.Partitions)
                : (int)((ulong)Interlocked.Increment(ref _roundRobin) % (ulong)config.Partitions);
        }

        var results = new ProducedRecord[records.Count];
        var region = Region<TopicPartitionRegion>();
        if (Array.TrueForAll(partitionOf, p => p == partitionOf[0]) && FitsOneCommand(records))
        {
            // The common case (one record, or one key): one command, no fan-out.
            var command = new AppendRecords(topic, partitionOf[0], producerId, NewRecords(records, [.. Enumerable.Range(0, records.Count)], producerId, sequence ?? 0));
            var appended = await AskAsync<AppendResult>(region, TracedMessage.Wrap(command), Settings.AskTimeout, cancellationToken);
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = new ProducedRecord(partitionOf[0], appended.Offsets[i]);
            }

            return results;
        }

        await Task.WhenAll(Enumerable.Range(0, records.Count).GroupBy(i => partitionOf[i]).Select(async group =>
        {
            // Chunks of one partition go one after another: their order is the records' order.
            foreach (var chunk in Chunk([.. group], records))
            {
                var command = new AppendRecords(topic, group.Key, producerId, NewRecords(records, chunk, producerId, sequence ?? 0));
                var result = await AskAsync<AppendResult>(region, TracedMessage.Wrap(command), Settings.AskTimeout, cancellationToken);
                for (var k = 0; k < chunk.Count; k++)
                {
                    results[chunk[k]] = new ProducedRecord(group.Key, result.Offsets[k]);
                }
            }
        }));
        return results;
    }

    /// <summary>Reads a partition from <paramref name="offset"/> (null: its start), waiting up to <paramref name="waitMs"/> at its end.</summary>
    public async Task<FetchResult> FetchAsync(string topic, int partition, long? offset, int max, int waitMs, CancellationToken cancellationToken)
    {
        var config = await GetTopicAsync(topic, cancellationToken);
        RequirePartition(config, partition);
        if (offset is < 0)
        {
            throw BrokerRequestException.BadRequest($"offset must not be negative (got {offset})");
        }

        var fetch = new FetchRecords(topic, partition, offset, ClampMax(max), Settings.MaxMessageBytes, ClampWait(waitMs));
        var fetched = await AskAsync<FetchResult>(Region<TopicPartitionRegion>(), fetch, Settings.AskTimeout + TimeSpan.FromMilliseconds(fetch.WaitMs), cancellationToken);
        _metrics.Fetched(topic, "partition", fetched.Records.Length);
        return fetched;
    }

    // ---------------------------------------------------------------- consumer groups

    /// <summary>
    /// Joins <paramref name="group"/> subscribed to <paramref name="topics"/> as a new member whose id the server makes
    /// and binds to <paramref name="caller"/>, or refreshes <paramref name="memberId"/>, which must be a current member
    /// issued to <paramref name="caller"/> (403 for another's, 404 for one that is gone: join without it). With
    /// <paramref name="fromLatest"/> the member starts at the end of partitions the group has no committed offset for
    /// (<c>autoOffsetReset: latest</c>), else at their start.
    /// </summary>
    public async Task<JoinGroupResult> JoinAsync(
        string group, IReadOnlyList<string> topics, int? sessionTimeoutMs, string? memberId, GridPrincipal caller, CancellationToken cancellationToken,
        bool fromLatest = false)
    {
        RequireName("group", group);
        if (memberId is not null)
        {
            RequireMember(memberId, caller);
            var current = await AskAsync<GroupDescription>(Region<ConsumerGroupRegion>(), new DescribeGroup(group), Settings.AskTimeout, cancellationToken);
            if (current.Members.All(m => m.MemberId != memberId))
            {
                throw new BrokerRequestException(StatusCodes.Status404NotFound, "Not found",
                    $"member '{memberId}' is not in group '{group}'; join without a memberId to get a new one", BrokerErrorCode.UnknownMember);
            }
        }

        if (topics.Count == 0)
        {
            throw BrokerRequestException.BadRequest("topics must name at least one topic");
        }

        if (topics.Count > Settings.MaxJoinTopics)
        {
            throw BrokerRequestException.TooLarge($"a member may subscribe to at most {Settings.MaxJoinTopics} topics (got {topics.Count})");
        }

        foreach (var topic in topics)
        {
            RequireName("topic", topic);
        }

        var timeout = sessionTimeoutMs ?? (int)Settings.DefaultSessionTimeout.TotalMilliseconds;
        if (timeout < Settings.MinSessionTimeout.TotalMilliseconds || timeout > Settings.MaxSessionTimeout.TotalMilliseconds)
        {
            throw BrokerRequestException.BadRequest(
                $"sessionTimeoutMs must be between {Settings.MinSessionTimeout.TotalMilliseconds} and {Settings.MaxSessionTimeout.TotalMilliseconds} (got {timeout})");
        }

        var configs = await Task.WhenAll(topics.Distinct(StringComparer.Ordinal).Select(t => GetTopicAsync(t, cancellationToken)));
        var join = new JoinGroup(group, [.. configs.Select(c => new TopicSubscription(c.Name, c.Partitions))], timeout, memberId ?? GroupMemberIds.New(caller), fromLatest);
        return await AskAsync<JoinGroupResult>(Region<ConsumerGroupRegion>(), join, Settings.AskTimeout, cancellationToken);
    }

    /// <summary>
    /// Polls for the member: records from its partitions starting at its fetch positions (the committed offsets
    /// after a rebalance, the start when none), at most <paramref name="max"/> and about <paramref name="maxBytes"/>,
    /// waiting up to <paramref name="waitMs"/> when there are none. Also the member's heartbeat.
    /// </summary>
    public async Task<GroupPollResult> PollAsync(string group, string memberId, GridPrincipal caller, int max, int waitMs, int maxBytes, CancellationToken cancellationToken)
    {
        RequireName("group", group);
        RequireMember(memberId, caller);
        max = ClampMax(max);
        waitMs = ClampWait(waitMs);
        maxBytes = Math.Clamp(maxBytes, 1, Settings.MaxMessageBytes);
        var groups = Region<ConsumerGroupRegion>();
        var plan = await AskAsync<PollPlan>(groups, new BeginPoll(group, memberId), Settings.AskTimeout, cancellationToken);
        // The poll is the heartbeat: never wait so long that the session runs out meanwhile.
        waitMs = Math.Min(waitMs, plan.SessionTimeoutMs / 2);
        if (plan.Positions.Any(p => p.Latest))
        {
            // autoOffsetReset=latest: the position is the end now, kept by the group so a later poll does not skip
            // what arrives meanwhile.
            var ends = await Task.WhenAll(plan.Positions.Where(p => p.Latest).Select(p =>
                AskAsync<PartitionInfoReply>(Region<TopicPartitionRegion>(), new GetPartitionInfo(p.Topic, p.Partition), Settings.AskTimeout, cancellationToken)));
            var taken = await AskAsync<PositionsAdvanced>(groups,
                new AdvancePositions(group, memberId, plan.Generation, [.. ends.Select(e => new PartitionOffset(e.Topic, e.Partition, e.EndOffset))]), Settings.AskTimeout, cancellationToken);
            if (!taken.Accepted)
            {
                var moved = await AskAsync<PollPlan>(groups, new BeginPoll(group, memberId), Settings.AskTimeout, cancellationToken);
                return new GroupPollResult(moved.Generation, moved.Assignments, []);
            }

            plan = plan with
            {
                Positions = [.. plan.Positions.Select(p => p.Latest
                    ? new FetchPosition(p.Topic, p.Partition, ends.First(e => e.Topic == p.Topic && e.Partition == p.Partition).EndOffset)
                    : p)],
            };
        }

        if (plan.Positions.Length == 0)
        {
            // More members than partitions: nothing to read until a rebalance; wait like an empty long poll.
            await Task.Delay(waitMs, cancellationToken);
            return new GroupPollResult(plan.Generation, plan.Assignments, []);
        }

        var share = (max + plan.Positions.Length - 1) / plan.Positions.Length;
        var byteShare = Math.Max(1, maxBytes / plan.Positions.Length);
        var pages = await Task.WhenAll(plan.Positions.Select(p => FetchForGroupAsync(p, share, byteShare, 0, cancellationToken)));
        if (pages.All(p => p.Page.Records.Length == 0) && waitMs > 0)
        {
            pages = await FirstNonEmptyAsync(
                [.. plan.Positions.Select((p, i) => FetchForGroupAsync(p with { Offset = pages[i].Page.NextOffset }, share, byteShare, waitMs, cancellationToken))]);
        }

        var records = pages.SelectMany(p => p.Page.Records.Select(r => new GroupRecord(p.Position.Topic, p.Position.Partition, r))).Take(max).ToArray();
        if (records.Length == 0)
        {
            return new GroupPollResult(plan.Generation, plan.Assignments, []);
        }

        var positions = records.GroupBy(r => (r.Topic, r.Partition))
            .Select(g => new PartitionOffset(g.Key.Topic, g.Key.Partition, g.Max(r => r.Record.Offset) + 1))
            .ToArray();
        var advanced = await AskAsync<PositionsAdvanced>(groups, new AdvancePositions(group, memberId, plan.Generation, positions), Settings.AskTimeout, cancellationToken);
        if (advanced.Accepted)
        {
            foreach (var topicRecords in records.GroupBy(r => r.Topic, StringComparer.Ordinal))
            {
                _metrics.Fetched(topicRecords.Key, "group", topicRecords.Count());
            }

            return new GroupPollResult(plan.Generation, plan.Assignments, records);
        }

        // The group rebalanced while we read: these partitions may belong to someone else now; deliver nothing.
        var fresh = await AskAsync<PollPlan>(groups, new BeginPoll(group, memberId), Settings.AskTimeout, cancellationToken);
        return new GroupPollResult(fresh.Generation, fresh.Assignments, []);
    }

    /// <summary>Commits offsets (next offset to read) of partitions the member owns.</summary>
    public Task<CommitOffsetsResult> CommitAsync(string group, string memberId, GridPrincipal caller, int? generation, IReadOnlyList<PartitionOffset> offsets, CancellationToken cancellationToken)
    {
        RequireName("group", group);
        if (offsets.Count > Settings.MaxCommitOffsets)
        {
            throw BrokerRequestException.TooLarge($"at most {Settings.MaxCommitOffsets} offsets per commit (got {offsets.Count})");
        }

        RequireMember(memberId, caller);
        return AskAsync<CommitOffsetsResult>(Region<ConsumerGroupRegion>(), new CommitOffsets(group, memberId, generation, [.. offsets]), Settings.AskTimeout, cancellationToken);
    }

    /// <summary>Leaves the group.</summary>
    public Task<LeaveGroupResult> LeaveAsync(string group, string memberId, GridPrincipal caller, CancellationToken cancellationToken)
    {
        RequireName("group", group);
        RequireMember(memberId, caller);
        return AskAsync<LeaveGroupResult>(Region<ConsumerGroupRegion>(), new LeaveGroup(group, memberId), Settings.AskTimeout, cancellationToken);
    }

    /// <summary>The group's members, assignments, committed offsets and lag (end offset − committed, or − start when none).</summary>
    public async Task<GroupView> DescribeGroupAsync(string group, CancellationToken cancellationToken)
    {
        RequireName("group", group);
        var description = await AskAsync<GroupDescription>(Region<ConsumerGroupRegion>(), new DescribeGroup(group), Settings.AskTimeout, cancellationToken);
        var committed = description.Committed.ToDictionary(c => new TopicPartition(c.Topic, c.Partition), c => c.Offset);
        var partitions = description.Topics.SelectMany(t => Enumerable.Range(0, t.Partitions).Select(p => new TopicPartition(t.Topic, p)))
            .Concat(committed.Keys)
            .Distinct()
            .OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition)
            .ToList();
        var infos = await Task.WhenAll(partitions.Select(tp =>
            AskAsync<PartitionInfoReply>(Region<TopicPartitionRegion>(), new GetPartitionInfo(tp.Topic, tp.Partition), Settings.AskTimeout, cancellationToken)));
        var lags = infos.Select(info =>
        {
            long? offset = committed.TryGetValue(new TopicPartition(info.Topic, info.Partition), out var c) ? c : null;
            var from = Math.Max(offset ?? info.StartOffset, info.StartOffset);
            return new PartitionLag(info.Topic, info.Partition, offset, info.StartOffset, info.EndOffset, Math.Max(0, info.EndOffset - from));
        }).ToArray();
        return new GroupView(description, lags);
    }

    /// <summary>
    /// Sets the committed offsets of a group without live members (409 otherwise) to the start
    /// (<paramref name="reset"/> <c>earliest</c>), the end (<c>latest</c>) or the first record at or after
    /// <paramref name="timestamp"/> (<c>timestamp</c>; the end when there is none) of every partition of
    /// <paramref name="topics"/> (null: the topics the group has committed offsets for).
    /// </summary>
    public async Task<GroupView> ResetOffsetsAsync(
        string group, string reset, DateTimeOffset? timestamp, IReadOnlyList<string>? topics, CancellationToken cancellationToken)
    {
        RequireName("group", group);
        if (reset is not ("earliest" or "latest" or "timestamp"))
        {
            throw BrokerRequestException.BadRequest($"reset must be earliest, latest or timestamp (got '{reset}')");
        }

        if ((reset == "timestamp") != timestamp.HasValue)
        {
            throw BrokerRequestException.BadRequest(reset == "timestamp" ? "reset timestamp needs a timestamp" : "a timestamp goes with reset timestamp only");
        }

        if (topics is null)
        {
            var current = await AskAsync<GroupDescription>(Region<ConsumerGroupRegion>(), new DescribeGroup(group), Settings.AskTimeout, cancellationToken);
            topics = [.. current.Committed.Select(c => c.Topic).Distinct(StringComparer.Ordinal)];
        }

        if (topics.Count == 0)
        {
            throw BrokerRequestException.BadRequest($"group '{group}' has no committed offsets; name the topics to reset");
        }

        var configs = await Task.WhenAll(topics.Distinct(StringComparer.Ordinal).Select(t => GetTopicAsync(t, cancellationToken)));
        var offsets = await Task.WhenAll(configs.SelectMany(c => Enumerable.Range(0, c.Partitions).Select(async p =>
        {
            var info = await AskAsync<PartitionInfoReply>(Region<TopicPartitionRegion>(), new GetPartitionInfo(c.Name, p), Settings.AskTimeout, cancellationToken);
            var offset = reset switch
            {
                "earliest" => info.StartOffset,
                "latest" => info.EndOffset,
                _ => (await OffsetForTimestampAsync(c, p, timestamp!.Value.ToUnixTimeMilliseconds(), cancellationToken))?.Offset ?? info.EndOffset,
            };
            return new PartitionOffset(c.Name, p, offset);
        })));
        await AskAsync<ResetGroupOffsetsResult>(Region<ConsumerGroupRegion>(), new ResetGroupOffsets(group, offsets), Settings.AskTimeout, cancellationToken);
        return await DescribeGroupAsync(group, cancellationToken);
    }

    /// <summary>Deletes a group without live members (409 otherwise) and its committed offsets; 404 when there is no such group.</summary>
    public async Task DeleteGroupAsync(string group, CancellationToken cancellationToken)
    {
        RequireName("group", group);
        await AskAsync<DeleteGroupResult>(Region<ConsumerGroupRegion>(), new DeleteGroup(group), Settings.AskTimeout, cancellationToken);
    }

    /// <summary>
    /// The groups whose entity runs somewhere in the cluster now (an idle group is passivated after a while and
    /// listed again once used), described with their lag; each broker node is asked for the groups it hosts.
    /// </summary>
    public async Task<GroupView[]> ListGroupsAsync(CancellationToken cancellationToken)
    {
        var members = Akka.Cluster.Cluster.Get(system).State.Members.Where(m => m.Status == Akka.Cluster.MemberStatus.Up && m.HasRole(RoleName));
        var hosted = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                var region = system.ActorSelection(new RootActorPath(m.Address) / "system" / "sharding" / GroupTypeName);
                var state = await region.Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(
                    Akka.Cluster.Sharding.GetShardRegionState.Instance, Settings.AskTimeout, cancellationToken);
                return state.Shards.SelectMany(s => s.EntityIds);
            }
            catch (AskTimeoutException)
            {
                return [];
            }
        }));
        var views = await Task.WhenAll(hosted.SelectMany(h => h).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(async group =>
        {
            try
            {
                return await DescribeGroupAsync(group, cancellationToken);
            }
            catch (BrokerRequestException e) when (e.Code == BrokerErrorCode.GroupNotFound)
            {
                return null;
            }
        }));
        return [.. views.OfType<GroupView>()];
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>A topic's configuration, or null when it does not exist.</summary>
    public async Task<TopicConfig?> FindTopicAsync(string topic, CancellationToken cancellationToken)
    {
        RequireName("topic", topic);
        var known = _topics.TryGetValue(topic, out var cached);
        if (known && Environment.TickCount64 - cached.ReadAt < TopicCacheTime.TotalMilliseconds)
        {
            return cached.Config;
        }

        TopicInfoReply reply;
        try
        {
            reply = await AskAsync<TopicInfoReply>(Region<TopicRegion>(), new GetTopic(topic), Settings.AskTimeout, cancellationToken);
        }
        catch (BrokerRequestException e) when (known && e.Status == StatusCodes.Status503ServiceUnavailable)
        {
            // The topic's entity is moving (its node crashed): what was known a moment ago still holds.
            return cached.Config;
        }

        if (reply.Config is not null)
        {
            _topics[topic] = (reply.Config, Environment.TickCount64);
        }
        else
        {
            _topics.TryRemove(topic, out _);
        }

        return reply.Config;
    }

    private async Task<(FetchPosition Position, FetchResult Page)> FetchForGroupAsync(
        FetchPosition position, int max, int maxBytes, int waitMs, CancellationToken cancellationToken)
    {
        var fetch = new FetchRecords(position.Topic, position.Partition, position.Offset, max, maxBytes, waitMs, ResetOutOfRange: true);
        var page = await AskAsync<FetchResult>(Region<TopicPartitionRegion>(), fetch, Settings.AskTimeout + TimeSpan.FromMilliseconds(waitMs), cancellationToken);
        return (position, page);
    }

    private static async Task<(FetchPosition Position, FetchResult Page)[]> FirstNonEmptyAsync(List<Task<(FetchPosition Position, FetchResult Page)>> fetches)
    {
        var pending = fetches.ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if ((await done).Page.Records.Length > 0)
            {
                break;
            }
        }

        // Fetches still waiting are abandoned: their records were not delivered, so positions do not move for them.
        return [.. fetches.Where(f => f.IsCompletedSuccessfully).Select(f => f.Result)];
    }

    private async Task<T> AskAsync<T>(IActorRef region, object message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        object reply;
        try
        {
            reply = await region.AskAnyAsync(message, timeout, cancellationToken);
        }
        catch (AskTimeoutException)
        {
            throw new BrokerRequestException(StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "the owner of this data did not answer in time (it may be moving to another node); retry");
        }

        return reply switch
        {
            T result => result,
            BrokerError error => throw BrokerRequestException.From(error),
            Coordination.OwnershipLapsed => throw new BrokerRequestException(StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "the node owning this data lost its lease (it is moving to another node); retry"),
            _ => throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name} to {message.GetType().Name}"),
        };
    }

    private IActorRef Region<TMarker>() => ActorRegistry.For(system).Get<TMarker>();

    private void ValidateProduce(string? producerId, long? sequence, IReadOnlyList<ProduceRecord> records)
    {
        if (records.Count == 0)
        {
            throw BrokerRequestException.BadRequest("records must hold at least one record");
        }

        if (records.Count > Settings.MaxRecordsPerRequest)
        {
            throw BrokerRequestException.TooLarge($"at most {Settings.MaxRecordsPerRequest} records per request (got {records.Count})");
        }

        if (producerId is not null)
        {
            RequireName("producer", producerId);
            if (sequence is null or < 0 || sequence.Value > long.MaxValue - records.Count)
            {
                throw BrokerRequestException.BadRequest("with producerId, sequence must be a non-negative number");
            }
        }
        else if (sequence is not null)
        {
            throw BrokerRequestException.BadRequest("sequence needs a producerId");
        }

        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Value.Length > Settings.MaxMessageBytes)
            {
                throw BrokerRequestException.TooLarge(
                    $"record {i} has {records[i].Value.Length} bytes; the limit is {Settings.MaxMessageBytes} (ActorGrid:Broker:MaxMessageBytes)");
            }

            if (records[i].Key is { } key && (key.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(key) > Settings.MaxKeyBytes))
            {
                throw BrokerRequestException.BadRequest($"record {i}: a key must have 1 to {Settings.MaxKeyBytes} UTF-8 bytes");
            }
        }
    }

    private bool FitsOneCommand(IReadOnlyList<ProduceRecord> records)
    {
        long bytes = 0;
        foreach (var record in records)
        {
            bytes += WireSize(record);
        }

        return records.Count <= Settings.MaxWriteBatchRecords && (records.Count == 1 || bytes <= Settings.MaxRemoteMessageBytes);
    }

    private IEnumerable<List<int>> Chunk(List<int> indexes, IReadOnlyList<ProduceRecord> records)
    {
        // Each command must fit in one remoting frame: it is cut by serialized size, not by value bytes alone.
        var chunk = new List<int>();
        long bytes = 0;
        foreach (var i in indexes)
        {
            var size = WireSize(records[i]);
            if (chunk.Count > 0 && (bytes + size > Settings.MaxRemoteMessageBytes || chunk.Count >= Settings.MaxWriteBatchRecords))
            {
                yield return chunk;
                chunk = [];
                bytes = 0;
            }

            chunk.Add(i);
            bytes += size;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>
    /// The records at <paramref name="indexes"/> as a command's records: with <paramref name="producerId"/>, record i
    /// has sequence <paramref name="firstSequence"/> + i.
    /// </summary>
    private static NewRecord[] NewRecords(IReadOnlyList<ProduceRecord> records, List<int> indexes, string? producerId, long firstSequence)
    {
        var batch = new NewRecord[indexes.Count];
        for (var k = 0; k < batch.Length; k++)
        {
            var i = indexes[k];
            batch[k] = new NewRecord(records[i].Key, records[i].Value, producerId is null ? -1 : firstSequence + i);
        }

        return batch;
    }

    /// <summary>At least the bytes <paramref name="record"/> takes in a serialized <see cref="AppendRecords"/> (as a <see cref="NewRecord"/>).</summary>
    private static long WireSize(ProduceRecord record) =>
        (record.Key is null ? 0 : ActorGridSerializer.JsonStringBytes(record.Key)) + ActorGridSerializer.JsonBase64Bytes(record.Value.Length) + 64;

    private int ClampMax(int max) => max < 1
        ? throw BrokerRequestException.BadRequest($"max must be at least 1 (got {max})")
        : Math.Min(max, Settings.MaxFetchRecords);

    private int ClampWait(int waitMs) => waitMs < 0
        ? throw BrokerRequestException.BadRequest($"waitMs must not be negative (got {waitMs})")
        : (int)Math.Min(waitMs, Settings.MaxWait.TotalMilliseconds);

    private static void RequirePartition(TopicConfig config, int partition)
    {
        if (partition < 0 || partition >= config.Partitions)
        {
            throw BrokerRequestException.NotFound($"topic '{config.Name}' has partitions 0..{config.Partitions - 1} (got {partition})");
        }
    }

    private static void RequireMember(string memberId, GridPrincipal caller)
    {
        RequireName("member", memberId);
        if (!GroupMemberIds.IsOwnedBy(memberId, caller))
        {
            throw BrokerRequestException.Forbidden($"member '{memberId}' was not issued to this caller; join to get a member id of your own");
        }
    }

    private static void RequireName(string what, string? name)
    {
        if (!BrokerNames.IsValid(name))
        {
            throw BrokerRequestException.BadRequest(BrokerNames.Explain(what, name));
        }
    }
}
