#nullable enable
using ActorGrid.Grid;
using Akka.Actor;
using Akka.Cluster.Sharding;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Gateway;

/// <summary>
/// Partition-level operations for front doors whose clients choose partitions themselves (Kafka): append to one
/// partition, read with a byte budget, find offsets by time, classic-protocol groups, and where partitions live.
/// </summary>
public sealed partial class BrokerGateway
{
    private readonly object _placementLock = new();
    private (DateTime At, Task<IReadOnlyDictionary<string, Address>> Shards)? _placement;

    /// <summary>
    /// Appends <paramref name="records"/> to one partition, in order, and returns once they are durable. With
    /// <paramref name="producerId"/>, record i has sequence <paramref name="firstSequence"/> + i and a retry appends
    /// nothing twice (the original offsets come back), and a batch that does not follow the producer's last one is
    /// refused (Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER), so retries cannot reorder a producer's records. The append is sent before this method first yields, so calls
    /// made one after another reach the partition in that order.
    /// </summary>
    /// <remarks>
    /// The commands are built before anything is awaited and <paramref name="records"/> is not held while they are in
    /// flight: at Kafka rates a request's records would otherwise live (and be promoted by the GC) until durable.
    /// </remarks>
    public Task<AppendResult> AppendAsync(
        TopicConfig topic, int partition, string? producerId, long firstSequence, IReadOnlyList<ProduceRecord> records, CancellationToken cancellationToken)
    {
        AppendRecords[] commands;
        try
        {
            RequirePartition(topic, partition);
            ValidateProduce(producerId, producerId is null ? null : firstSequence, records);
            // One command when they fit one remoting frame, else consecutive chunks that each do.
            commands = [.. Chunk([.. Enumerable.Range(0, records.Count)], records)
                .Select(chunk => new AppendRecords(topic.Name, partition, producerId, NewRecords(records, chunk, producerId, firstSequence), Contiguous: true))];
        }
        catch (Exception e)
        {
            return Task.FromException<AppendResult>(e);
        }

        var region = Region<TopicPartitionRegion>();
        return commands.Length == 1
            ? AskAsync<AppendResult>(region, commands[0], Settings.AskTimeout, cancellationToken)
            : AppendInOrderAsync(region, commands, cancellationToken);
    }

    /// <summary>Sends <paramref name="commands"/> one after the other (each once the previous is durable) and joins their offsets.</summary>
    private async Task<AppendResult> AppendInOrderAsync(IActorRef region, AppendRecords[] commands, CancellationToken cancellationToken)
    {
        var offsets = new List<long>();
        var duplicates = 0;
        foreach (var command in commands)
        {
            var result = await AskAsync<AppendResult>(region, command, Settings.AskTimeout, cancellationToken);
            offsets.AddRange(result.Offsets);
            duplicates += result.Duplicates;
        }

        return new AppendResult([.. offsets], duplicates);
    }

    /// <summary>Reads one partition from <paramref name="offset"/>: at most <paramref name="maxRecords"/> and about <paramref name="maxBytes"/>, waiting up to <paramref name="waitMs"/> at its end.</summary>
    public Task<FetchResult> FetchAsync(TopicConfig topic, int partition, long offset, int maxRecords, int maxBytes, int waitMs, CancellationToken cancellationToken)
    {
        RequirePartition(topic, partition);
        var fetch = new FetchRecords(topic.Name, partition, offset, ClampMax(maxRecords), Math.Clamp(maxBytes, 1, Settings.MaxMessageBytes), ClampWait(waitMs));
        return AskAsync<FetchResult>(Region<TopicPartitionRegion>(), fetch, Settings.AskTimeout + TimeSpan.FromMilliseconds(fetch.WaitMs), cancellationToken);
    }

    /// <summary>
    /// Reads one partition from <paramref name="offset"/> up to about <paramref name="maxBytes"/> of values (at most
    /// <see cref="BrokerProtocol.Settings.MaxMessageBytes"/>), in pages of <see cref="BrokerProtocol.Settings.MaxFetchRecords"/>: a
    /// partition of small records fills a byte budget with many pages. When the first page is full and the partition
    /// goes on, the pages the rest of the budget should hold (estimated from the first; at most
    /// <paramref name="maxPagesAhead"/>) are read at once (the partition serves a few journal reads in parallel) and
    /// kept while they follow each other. Waits up to <paramref name="waitMs"/> at the partition's end, like
    /// <see cref="FetchAsync(TopicConfig, int, long, int, int, int, CancellationToken)"/>.
    /// </summary>
    public async Task<FetchResult> FetchBytesAsync(TopicConfig topic, int partition, long offset, int maxBytes, int waitMs, int maxPagesAhead, CancellationToken cancellationToken)
    {
        var budget = Math.Clamp(maxBytes, 1, Settings.MaxMessageBytes);
        var pageRecords = Settings.MaxFetchRecords;
        var first = await FetchAsync(topic, partition, offset, pageRecords, budget, waitMs, cancellationToken);
        var used = ValueBytes(first.Records);
        if (first.Records.Length < pageRecords || first.NextOffset >= first.EndOffset || used >= budget || maxPagesAhead <= 0)
        {
            return first;
        }

        var pages = (int)Math.Min(maxPagesAhead, (budget - used) / Math.Max(1, used));
        if (pages <= 0)
        {
            return first;
        }

        var share = (int)Math.Max(1, (budget - used) / pages);
        var ahead = new Task<FetchResult>[pages];
        for (var i = 0; i < pages; i++)
        {
            ahead[i] = FetchAsync(topic, partition, first.NextOffset + ((long)i * pageRecords), pageRecords, share, 0, cancellationToken);
        }

        var records = new List<StoredRecord>(pageRecords * (pages + 1));
        records.AddRange(first.Records);
        var last = first;
        var k = 0;
        for (; k < pages; k++)
        {
            FetchResult page;
            try
            {
                page = await ahead[k];
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                break; // what was read so far is the answer; the client fetches the rest again
            }

            // Keep pages only while each starts where the previous ended (retention, or a short page, breaks the run).
            if (page.Records.Length == 0 || page.Records[0].Offset != last.NextOffset)
            {
                break;
            }

            records.AddRange(page.Records);
            last = page;
            if (page.Records.Length < pageRecords)
            {
                k++;
                break;
            }
        }

        // Pages not used finish on their own; their failures are of no interest.
        for (; k < pages; k++)
        {
            _ = ahead[k].ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        return new FetchResult([.. records], last.NextOffset, first.StartOffset, Math.Max(first.EndOffset, last.EndOffset));

        static long ValueBytes(StoredRecord[] page)
        {
            long bytes = 0;
            foreach (var r in page)
            {
                bytes += r.Value.Length;
            }

            return bytes;
        }
    }

    /// <summary>The first record appended at or after <paramref name="timestamp"/> (Unix ms), or null when there is none.</summary>
    public async Task<StoredRecord?> OffsetForTimestampAsync(TopicConfig topic, int partition, long timestamp, CancellationToken cancellationToken)
    {
        RequirePartition(topic, partition);
        var hint = await AskAsync<OffsetByTimeHint>(Region<TopicPartitionRegion>(), new FindOffsetByTime(topic.Name, partition, timestamp), Settings.AskTimeout, cancellationToken);
        var offset = hint.ScanFrom;
        while (offset < hint.EndOffset)
        {
            // The time index is sparse: scan the few records between its entry and the answer.
            var page = await FetchAsync(topic, partition, offset, Settings.MaxFetchRecords, Settings.MaxMessageBytes, 0, cancellationToken);
            if (page.Records.FirstOrDefault(r => r.Timestamp >= timestamp) is { } found)
            {
                return found;
            }

            if (page.Records.Length == 0)
            {
                break;
            }

            offset = page.NextOffset;
        }

        return null;
    }

    /// <summary>
    /// The node whose shard region hosts each partition's entity now (null: not allocated yet; the first request
    /// allocates it). Shard placement is asked of the cluster at most once a second.
    /// </summary>
    public async Task<IReadOnlyDictionary<TopicPartition, Address?>> PartitionOwnersAsync(IEnumerable<TopicConfig> topics, CancellationToken cancellationToken)
    {
        Task<IReadOnlyDictionary<string, Address>> shards;
        lock (_placementLock)
        {
            if (_placement is not { } cached || DateTime.UtcNow - cached.At > TimeSpan.FromSeconds(1) || cached.Shards.IsFaulted)
            {
                _placement = (DateTime.UtcNow, AskPlacementAsync());
            }

            shards = _placement.Value.Shards;
        }

        IReadOnlyDictionary<string, Address> owners;
        try
        {
            owners = await shards.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            owners = new Dictionary<string, Address>();
        }

        var extractor = new GridMessageExtractor(Settings.MaxShards);
        var result = new Dictionary<TopicPartition, Address?>();
        foreach (var topic in topics)
        {
            for (var p = 0; p < topic.Partitions; p++)
            {
                var shard = extractor.ShardId(PartitionEntityId(topic.Name, p), null);
                result[new TopicPartition(topic.Name, p)] = owners.TryGetValue(shard, out var address) ? address : null;
            }
        }

        return result;
    }

    // ---------------------------------------------------------------- classic (Kafka) consumer groups

    /// <summary>Kafka's JoinGroup; answers once the rebalance completes (up to the member's rebalance timeout).</summary>
    public Task<ClassicJoinResult> JoinClassicAsync(JoinClassicGroup join, CancellationToken cancellationToken)
    {
        RequireName("group", join.Group);
        return AskAsync<ClassicJoinResult>(Region<ConsumerGroupRegion>(), join,
            Settings.AskTimeout + TimeSpan.FromMilliseconds(Math.Clamp(join.RebalanceTimeoutMs, 0, (int)Settings.MaxSessionTimeout.TotalMilliseconds)), cancellationToken);
    }

    /// <summary>Kafka's SyncGroup; a follower's answer waits for the leader's assignments.</summary>
    public Task<ClassicSyncResult> SyncClassicAsync(SyncClassicGroup sync, CancellationToken cancellationToken)
    {
        RequireName("group", sync.Group);
        return AskAsync<ClassicSyncResult>(Region<ConsumerGroupRegion>(), sync, Settings.AskTimeout + Settings.MaxSessionTimeout, cancellationToken);
    }

    /// <summary>Kafka's Heartbeat, LeaveGroup or OffsetCommit (durable when answered).</summary>
    public Task<ClassicGroupReply> ClassicAsync(IWithEntityId command, CancellationToken cancellationToken)
    {
        RequireName("group", command.EntityId);
        return AskAsync<ClassicGroupReply>(Region<ConsumerGroupRegion>(), command, Settings.AskTimeout, cancellationToken);
    }

    /// <summary>A group's classic members and committed offsets.</summary>
    public Task<ClassicGroupView> DescribeClassicAsync(string group, CancellationToken cancellationToken)
    {
        RequireName("group", group);
        return AskAsync<ClassicGroupView>(Region<ConsumerGroupRegion>(), new DescribeClassicGroup(group), Settings.AskTimeout, cancellationToken);
    }

    private async Task<IReadOnlyDictionary<string, Address>> AskPlacementAsync()
    {
        var stats = await Region<TopicPartitionRegion>().Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(3));
        var owners = new Dictionary<string, Address>(StringComparer.Ordinal);
        foreach (var (address, region) in stats.Regions)
        {
            foreach (var shard in region.Stats.Keys)
            {
                owners[shard] = address;
            }
        }

        return owners;
    }
}
