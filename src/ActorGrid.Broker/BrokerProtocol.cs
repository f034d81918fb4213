#nullable enable
using System.Text.Json.Serialization;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Serialization;

namespace ActorGrid.Broker;

/// <summary>
/// The broker role's protocol: every command, event, reply and snapshot of its entities (topics, the topic
/// directory, topic partitions and consumer groups), the manifest table that binds them to the journal and the
/// wire, and the role's settings.
/// </summary>
public static class BrokerProtocol
{
    /// <summary>The cluster role that hosts broker entities.</summary>
    public const string RoleName = "broker";

    /// <summary>Sharding type of topic metadata entities (one per topic).</summary>
    public const string TopicTypeName = "broker-topic";

    /// <summary>Sharding type of the topic directory (one entity listing every topic).</summary>
    public const string TopicDirectoryTypeName = "broker-topic-directory";

    /// <summary>Sharding type of topic partitions (one entity per partition: the log).</summary>
    public const string PartitionTypeName = "broker-partition";

    /// <summary>Sharding type of consumer groups (one entity per group).</summary>
    public const string GroupTypeName = "broker-group";

    /// <summary>The entity id of the topic directory.</summary>
    public const string DirectoryEntityId = "topics";

    /// <summary>The entity id of a topic partition, e.g. <c>t/orders/3</c>.</summary>
    public static string PartitionEntityId(string topic, int partition) => $"t/{topic}/{partition}";

    // ------------------------------------------------------------------ shared values

    /// <summary>A topic's immutable configuration.</summary>
    /// <param name="Name">Topic name (<c>[A-Za-z0-9._-]{1,200}</c>).</param>
    /// <param name="Partitions">Number of partitions, fixed at creation.</param>
    /// <param name="RetentionMessages">Keep at most this many records per partition (null: unlimited).</param>
    /// <param name="RetentionSeconds">Keep records at most this long (null: unlimited).</param>
    public sealed record TopicConfig(string Name, int Partitions, long? RetentionMessages, long? RetentionSeconds) : IActorGridMessage;

    /// <summary>One partition of one topic.</summary>
    public sealed record TopicPartition(string Topic, int Partition);

    /// <summary>An offset in one partition of one topic (a committed offset, a fetch position).</summary>
    public sealed record PartitionOffset(string Topic, int Partition, long Offset);

    /// <summary>A record as stored in a partition.</summary>
    /// <param name="Offset">Position in the partition, dense from 0.</param>
    /// <param name="Key">The producer's key, if any.</param>
    /// <param name="Value">The payload.</param>
    /// <param name="Timestamp">Append time, Unix milliseconds, non-decreasing along the partition.</param>
    public sealed record StoredRecord(long Offset, string? Key, byte[] Value, long Timestamp)
    {
        /// <summary>
        /// At least the bytes the record takes in a serialized <see cref="FetchResult"/>: its key as a JSON string, its
        /// value as base64 and 96 bytes of member names and numbers. Fetch replies are cut by this, not by value bytes alone.
        /// </summary>
        public long WireSize() =>
            (Key is null ? 0 : ActorGridSerializer.JsonStringBytes(Key)) + ActorGridSerializer.JsonBase64Bytes(Value.Length) + 96;
    }

    /// <summary>A record to append.</summary>
    /// <param name="Key">Key (decides the partition at the edge), if any.</param>
    /// <param name="Value">Payload.</param>
    /// <param name="Sequence">The producer's sequence number for this record, or -1 without a producer id.</param>
    public sealed record NewRecord(string? Key, byte[] Value, long Sequence);

    /// <summary>Why a broker entity refused a command.</summary>
    public enum BrokerErrorCode
    {
        /// <summary>The topic does not exist.</summary>
        TopicNotFound,

        /// <summary>The offset is below the partition's start or beyond its end.</summary>
        OffsetOutOfRange,

        /// <summary>The member is not (or no longer) in the group: join again.</summary>
        UnknownMember,

        /// <summary>The request names a generation the group has moved past.</summary>
        StaleGeneration,

        /// <summary>The partition is not assigned to this member in the current generation.</summary>
        NotAssigned,

        /// <summary>A producer sequence cannot be deduplicated (older than the window or overlapping differently).</summary>
        SequenceConflict,

        /// <summary>The group has no members and no committed offsets.</summary>
        GroupNotFound,

        /// <summary>The request is malformed.</summary>
        Invalid,

        /// <summary>The entity cannot serve now (journal failure, overload); retry.</summary>
        Unavailable,

        /// <summary>A documented limit (members per group, topics) is reached: nothing was changed.</summary>
        LimitReached,

        /// <summary>A record is too large to travel in one reply between nodes (stored before the limit was lowered).</summary>
        TooLarge,

        /// <summary>The group has live members: its offsets cannot be reset nor the group deleted now.</summary>
        GroupNotEmpty,
    }

    /// <summary>A refusal with a detail meant for the user.</summary>
    public sealed record BrokerError(BrokerErrorCode Code, string Detail) : IActorGridMessage;

    // ------------------------------------------------------------------ topic

    /// <summary>Create a topic; idempotent for an identical configuration.</summary>
    public sealed record CreateTopic(TopicConfig Config) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Config.Name;
    }

    /// <summary>Ask a topic's configuration.</summary>
    public sealed record GetTopic(string Topic) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Topic;
    }

    /// <summary>What <see cref="CreateTopic"/> did.</summary>
    public enum TopicCreateOutcome
    {
        /// <summary>The topic was created.</summary>
        Created,

        /// <summary>The topic already existed with the same configuration.</summary>
        AlreadyExists,

        /// <summary>The topic already exists with a different configuration; nothing changed.</summary>
        Conflict,
    }

    /// <summary>Reply to <see cref="CreateTopic"/>; <paramref name="Config"/> is the topic's (existing) configuration.</summary>
    public sealed record CreateTopicResult(TopicCreateOutcome Outcome, TopicConfig Config) : IActorGridMessage;

    /// <summary>Reply to <see cref="GetTopic"/>: the configuration, or null when the topic does not exist.</summary>
    public sealed record TopicInfoReply(string Topic, TopicConfig? Config) : IActorGridMessage;

    /// <summary>Event: the topic was created.</summary>
    public sealed record TopicCreated(TopicConfig Config, long Timestamp) : IActorGridMessage;

    /// <summary>
    /// Delete a topic's metadata: from then on its partitions refuse it. The gateway then deletes the partitions' logs
    /// (<see cref="DeletePartition"/>) and the directory entry (<see cref="UnregisterTopic"/>).
    /// </summary>
    public sealed record DeleteTopic(string Topic) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Topic;
    }

    /// <summary>
    /// Reply to <see cref="DeleteTopic"/>: the configuration of the topic deleted now (<paramref name="Deleted"/>) or
    /// of the one deleted earlier, whose remains a retried delete removes (null: no such topic was ever known here).
    /// </summary>
    public sealed record DeleteTopicResult(TopicConfig? Config, bool Deleted) : IActorGridMessage;

    /// <summary>Event: the topic was deleted.</summary>
    public sealed record TopicDeleted(long Timestamp) : IActorGridMessage;

    // ------------------------------------------------------------------ topic directory

    /// <summary>Record a topic name in the directory (idempotent).</summary>
    public sealed record RegisterTopic(string Topic) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => DirectoryEntityId;
    }

    /// <summary>Reply to <see cref="RegisterTopic"/>.</summary>
    public sealed record RegisterTopicResult(string Topic) : IActorGridMessage;

    /// <summary>List every registered topic name.</summary>
    public sealed record ListTopics : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => DirectoryEntityId;
    }

    /// <summary>Reply to <see cref="ListTopics"/>, sorted by name.</summary>
    public sealed record TopicListReply(string[] Topics) : IActorGridMessage;

    /// <summary>Event: a topic name entered the directory.</summary>
    public sealed record TopicRegistered(string Topic) : IActorGridMessage;

    /// <summary>Remove a deleted topic's name from the directory (idempotent).</summary>
    public sealed record UnregisterTopic(string Topic) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => DirectoryEntityId;
    }

    /// <summary>Reply to <see cref="UnregisterTopic"/>.</summary>
    public sealed record UnregisterTopicResult(string Topic) : IActorGridMessage;

    /// <summary>Event: a topic name left the directory.</summary>
    public sealed record TopicUnregistered(string Topic) : IActorGridMessage;

    /// <summary>Snapshot of the directory.</summary>
    public sealed record TopicDirectorySnapshot(string[] Topics) : IActorGridMessage;

    // ------------------------------------------------------------------ partition

    /// <summary>
    /// Append records to one partition, in order. Acknowledged with <see cref="AppendResult"/> only once they are
    /// in the journal. With <paramref name="ProducerId"/>, records whose sequences were already appended are not
    /// appended again; their original offsets are returned.
    /// </summary>
    /// <param name="Topic">The topic.</param>
    /// <param name="Partition">The partition.</param>
    /// <param name="ProducerId">The idempotent producer, if any.</param>
    /// <param name="Records">The records, in order.</param>
    /// <param name="Contiguous">
    /// With a producer id: a new batch must start right after the producer's last sequence in this partition (Kafka's
    /// rule, which keeps a producer's retries in order); otherwise it is refused as a sequence conflict.
    /// </param>
    public sealed record AppendRecords(string Topic, int Partition, string? ProducerId, NewRecord[] Records, bool Contiguous = false) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => PartitionEntityId(Topic, Partition);
    }

    /// <summary>Reply to <see cref="AppendRecords"/>: each record's offset, and how many were duplicates.</summary>
    public sealed record AppendResult(long[] Offsets, int Duplicates) : IActorGridMessage;

    /// <summary>
    /// Read records from <paramref name="Offset"/> (null: the partition's start). When the partition has nothing at
    /// the offset yet, wait up to <paramref name="WaitMs"/> for records. With <paramref name="ResetOutOfRange"/>, an
    /// offset below the start reads from the start, and one beyond the end from the end, instead of failing
    /// (consumer groups, like Kafka's <c>auto.offset.reset</c>).
    /// </summary>
    public sealed record FetchRecords(string Topic, int Partition, long? Offset, int MaxRecords, int MaxBytes, int WaitMs, bool ResetOutOfRange = false)
        : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => PartitionEntityId(Topic, Partition);
    }

    /// <summary>Reply to <see cref="FetchRecords"/>.</summary>
    public sealed record FetchResult(StoredRecord[] Records, long NextOffset, long StartOffset, long EndOffset) : IActorGridMessage;

    /// <summary>Ask a partition's start and end offsets.</summary>
    public sealed record GetPartitionInfo(string Topic, int Partition) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => PartitionEntityId(Topic, Partition);
    }

    /// <summary>Reply to <see cref="GetPartitionInfo"/>: records live in [<paramref name="StartOffset"/>, <paramref name="EndOffset"/>).</summary>
    public sealed record PartitionInfoReply(string Topic, int Partition, long StartOffset, long EndOffset) : IActorGridMessage;

    /// <summary>
    /// Delete a partition of a deleted topic: its records and snapshots leave the journal (once the write in flight
    /// landed), then the entity stops. Idempotent.
    /// </summary>
    public sealed record DeletePartition(string Topic, int Partition) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => PartitionEntityId(Topic, Partition);
    }

    /// <summary>Reply to <see cref="DeletePartition"/>: the log is gone; it had ended at <paramref name="EndOffset"/>.</summary>
    public sealed record PartitionDeleted(string Topic, int Partition, long EndOffset) : IActorGridMessage;

    /// <summary>
    /// Event: one record was appended. Its offset is its journal sequence number minus one, so a page of offsets is
    /// one range read of the journal.
    /// </summary>
    /// <param name="Timestamp">Append time (Unix ms).</param>
    /// <param name="Key">Key, if any.</param>
    /// <param name="Value">Payload.</param>
    /// <param name="ProducerId">Producer id, if the record was produced idempotently.</param>
    /// <param name="Sequence">The producer's sequence number (-1 without producer).</param>
    /// <param name="BatchFirstSequence">Sequence of the first record of the same append command (batch boundary for deduplication).</param>
    public sealed record RecordAppended(long Timestamp, string? Key, byte[] Value, string? ProducerId, long Sequence, long BatchFirstSequence)
        : IActorGridMessage;

    /// <summary>One remembered producer batch: sequences [First, Last] (Count records) at offsets FirstOffset...</summary>
    public sealed record ProducerBatch(long FirstSequence, long LastSequence, int Count, long FirstOffset);

    /// <summary>A producer's deduplication state in one partition.</summary>
    /// <param name="ProducerId">The producer.</param>
    /// <param name="Floor">Highest sequence forgotten (evicted from the window), -1 when none.</param>
    /// <param name="LastOffset">Offset of the producer's latest record (recency for eviction).</param>
    /// <param name="Batches">The most recent batches, oldest first.</param>
    /// <param name="LastTimestamp">Timestamp of its latest record (expiry by time; 0 in snapshots written before it).</param>
    public sealed record ProducerSnapshot(string ProducerId, long Floor, long LastOffset, ProducerBatch[] Batches, long LastTimestamp = 0);

    /// <summary>A producer the partition forgot (expired or evicted): only the highest sequence it had appended.</summary>
    public sealed record ForgottenProducer(string ProducerId, long Floor);

    /// <summary>A sparse time index entry: the record at <paramref name="Offset"/> was appended at <paramref name="Timestamp"/>.</summary>
    public sealed record TimeIndexEntry(long Offset, long Timestamp);

    /// <summary>Snapshot of a partition (the records themselves stay in the journal).</summary>
    public sealed record PartitionSnapshot(
        long StartOffset,
        long NextOffset,
        long LastTimestamp,
        ProducerSnapshot[] Producers,
        long TimeIndexInterval,
        TimeIndexEntry[] TimeIndex,
        ForgottenProducer[]? ForgottenProducers = null) : IActorGridMessage;

    // ------------------------------------------------------------------ consumer group

    /// <summary>A topic a member subscribes to, with its partition count.</summary>
    public sealed record TopicSubscription(string Topic, int Partitions);

    /// <summary>
    /// Join a group (or refresh the subscription of <paramref name="MemberId"/>). Membership changes bump the
    /// generation and reassign partitions.
    /// </summary>
    /// <param name="Group">The group.</param>
    /// <param name="Topics">The subscription.</param>
    /// <param name="SessionTimeoutMs">The member's session timeout.</param>
    /// <param name="MemberId">The member (a new one's id is made by the gateway).</param>
    /// <param name="FromLatest">Where the member starts in a partition without a committed offset: its end (Kafka's <c>auto.offset.reset=latest</c>), else its start.</param>
    public sealed record JoinGroup(string Group, TopicSubscription[] Topics, int SessionTimeoutMs, string? MemberId, bool FromLatest = false)
        : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Reply to <see cref="JoinGroup"/>.</summary>
    public sealed record JoinGroupResult(string MemberId, int Generation, TopicPartition[] Assignments) : IActorGridMessage;

    /// <summary>Start a poll: heartbeat, and learn the generation, assignments and fetch positions.</summary>
    public sealed record BeginPoll(string Group, string MemberId) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>
    /// A fetch position: where the member reads next in a partition (null offset: from the start, or with
    /// <paramref name="Latest"/> from the end as it is when the poll begins).
    /// </summary>
    public sealed record FetchPosition(string Topic, int Partition, long? Offset, bool Latest = false);

    /// <summary>Reply to <see cref="BeginPoll"/>; a long poll should wait less than <paramref name="SessionTimeoutMs"/>.</summary>
    public sealed record PollPlan(int Generation, TopicPartition[] Assignments, FetchPosition[] Positions, int SessionTimeoutMs) : IActorGridMessage;

    /// <summary>After a poll delivered records: move the member's fetch positions (ignored for a stale generation).</summary>
    public sealed record AdvancePositions(string Group, string MemberId, int Generation, PartitionOffset[] Positions)
        : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Reply to <see cref="AdvancePositions"/>: whether the positions were taken (false: the generation moved on).</summary>
    public sealed record PositionsAdvanced(bool Accepted, int Generation) : IActorGridMessage;

    /// <summary>Commit offsets (the next offset to read) for partitions assigned to the member.</summary>
    public sealed record CommitOffsets(string Group, string MemberId, int? Generation, PartitionOffset[] Offsets)
        : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Reply to <see cref="CommitOffsets"/> once the offsets are durable.</summary>
    public sealed record CommitOffsetsResult(int Generation) : IActorGridMessage;

    /// <summary>Leave the group; its partitions are reassigned.</summary>
    public sealed record LeaveGroup(string Group, string MemberId) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Reply to <see cref="LeaveGroup"/>.</summary>
    public sealed record LeaveGroupResult(int Generation) : IActorGridMessage;

    /// <summary>Describe the group: members, assignments, positions, committed offsets.</summary>
    public sealed record DescribeGroup(string Group) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>One member as seen by <see cref="DescribeGroup"/>.</summary>
    public sealed record GroupMemberView(
        string MemberId,
        string[] Topics,
        int SessionTimeoutMs,
        long IdleMs,
        TopicPartition[] Assignments,
        PartitionOffset[] Positions);

    /// <summary>Reply to <see cref="DescribeGroup"/>.</summary>
    public sealed record GroupDescription(
        string Group,
        int Generation,
        GroupMemberView[] Members,
        TopicSubscription[] Topics,
        PartitionOffset[] Committed) : IActorGridMessage;

    /// <summary>An event a consumer group persists.</summary>
    public interface IGroupEvent : IActorGridMessage;

    /// <summary>Event: a member joined (or changed its subscription); <paramref name="FromLatest"/> as in <see cref="JoinGroup"/>.</summary>
    public sealed record MemberJoined(string MemberId, TopicSubscription[] Topics, int SessionTimeoutMs, bool FromLatest = false) : IGroupEvent;

    /// <summary>Event: a member left.</summary>
    public sealed record MemberLeft(string MemberId) : IGroupEvent;

    /// <summary>Event: a member stopped polling for its session timeout and was removed.</summary>
    public sealed record MemberExpired(string MemberId) : IGroupEvent;

    /// <summary>Event: offsets were committed (by a member, or by an administrator's reset: empty member id).</summary>
    public sealed record OffsetsCommitted(string MemberId, PartitionOffset[] Offsets) : IGroupEvent;

    /// <summary>Event: the group was deleted with its committed offsets.</summary>
    public sealed record GroupDeleted(long Timestamp) : IGroupEvent;

    /// <summary>Set the committed offsets of a group that has no live members (an administrator's reset).</summary>
    public sealed record ResetGroupOffsets(string Group, PartitionOffset[] Offsets) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Reply to <see cref="ResetGroupOffsets"/> once durable: every committed offset of the group.</summary>
    public sealed record ResetGroupOffsetsResult(PartitionOffset[] Committed) : IActorGridMessage;

    /// <summary>Delete a group that has no live members, with its committed offsets.</summary>
    public sealed record DeleteGroup(string Group) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Reply to <see cref="DeleteGroup"/> once durable.</summary>
    public sealed record DeleteGroupResult(string Group) : IActorGridMessage;

    /// <summary>A member in a group snapshot.</summary>
    public sealed record GroupMemberSnapshot(string MemberId, TopicSubscription[] Topics, int SessionTimeoutMs, bool FromLatest = false);

    /// <summary>Snapshot of a consumer group.</summary>
    /// <param name="Generation">The HTTP members' generation.</param>
    /// <param name="Members">The HTTP members.</param>
    /// <param name="Committed">Committed offsets.</param>
    /// <param name="Classic">The Kafka-protocol membership last persisted (null: none, or a snapshot written before it was kept).</param>
    public sealed record GroupSnapshot(int Generation, GroupMemberSnapshot[] Members, PartitionOffset[] Committed, ClassicGroupSnapshot? Classic = null) : IActorGridMessage;

    /// <summary>A Kafka-protocol member as persisted: what a new home of the group needs to know it.</summary>
    public sealed record ClassicMemberSnapshot(
        string MemberId, string ClientId, string ClientHost, int SessionTimeoutMs, int RebalanceTimeoutMs, ClassicProtocol[] Protocols, byte[] Assignment);

    /// <summary>
    /// A Kafka-protocol group's metadata as persisted (Apache Kafka keeps the same in <c>__consumer_offsets</c>), so that
    /// the group's entity, restarted on another node, knows its members, generation and assignments.
    /// </summary>
    /// <param name="Revision">Counts the persisted changes of the group; a state takes a change only when it has not reached its revision (recovery).</param>
    /// <param name="Generation">The generation.</param>
    /// <param name="ProtocolType">The members' protocol type.</param>
    /// <param name="ProtocolName">The assignor of the generation.</param>
    /// <param name="LeaderId">The member that computes assignments.</param>
    /// <param name="Rebalancing">Whether the group was between generations (members left or were dropped): restored members join again.</param>
    /// <param name="Members">The members with their assignments.</param>
    public sealed record ClassicGroupSnapshot(
        long Revision, int Generation, string ProtocolType, string ProtocolName, string LeaderId, bool Rebalancing, ClassicMemberSnapshot[] Members);

    /// <summary>Event: a Kafka-protocol group's membership changed (a rebalance completed, members left or were dropped).</summary>
    public sealed record ClassicGroupChanged(ClassicGroupSnapshot Group) : IGroupEvent;

    // ------------------------------------------------------------------ classic (Kafka) group protocol

    /// <summary>What a classic-protocol group request ran into (the Kafka door maps these to Kafka error codes).</summary>
    public enum ClassicGroupError
    {
        /// <summary>Done.</summary>
        None,

        /// <summary>The member is not in the group: join again without a member id.</summary>
        UnknownMember,

        /// <summary>The request names another generation than the group's.</summary>
        IllegalGeneration,

        /// <summary>The group is rebalancing: join again.</summary>
        RebalanceInProgress,

        /// <summary>The member's protocol type or protocols do not match the group's (or the group is used over HTTP).</summary>
        InconsistentProtocol,
    }

    /// <summary>A partition assignor a member supports, with its subscription metadata (opaque to the broker).</summary>
    public sealed record ClassicProtocol(string Name, byte[] Metadata);

    /// <summary>
    /// Join a group with the classic protocol (Kafka's JoinGroup): the reply comes once every known member has
    /// joined (or the rebalance timeout ran out), with the generation, the leader and, for the leader, every
    /// member's metadata. <paramref name="MemberId"/> empty: a new member.
    /// </summary>
    public sealed record JoinClassicGroup(
        string Group, string MemberId, string ClientId, string ClientHost, int SessionTimeoutMs, int RebalanceTimeoutMs,
        string ProtocolType, ClassicProtocol[] Protocols) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>A member and its metadata for the chosen protocol (sent to the leader).</summary>
    public sealed record ClassicMemberMetadata(string MemberId, byte[] Metadata);

    /// <summary>Reply to <see cref="JoinClassicGroup"/>.</summary>
    public sealed record ClassicJoinResult(
        ClassicGroupError Error, int Generation, string ProtocolName, string LeaderId, string MemberId, ClassicMemberMetadata[] Members)
        : IActorGridMessage;

    /// <summary>A member's assignment as the leader computed it (opaque to the broker).</summary>
    public sealed record ClassicAssignment(string MemberId, byte[] Assignment);

    /// <summary>Kafka's SyncGroup: the leader sends every member's assignment; each member receives its own.</summary>
    public sealed record SyncClassicGroup(string Group, string MemberId, int Generation, ClassicAssignment[] Assignments)
        : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Reply to <see cref="SyncClassicGroup"/>.</summary>
    public sealed record ClassicSyncResult(ClassicGroupError Error, byte[] Assignment) : IActorGridMessage;

    /// <summary>Kafka's Heartbeat.</summary>
    public sealed record ClassicHeartbeat(string Group, string MemberId, int Generation) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Kafka's LeaveGroup for <paramref name="MemberIds"/>.</summary>
    public sealed record LeaveClassicGroup(string Group, string[] MemberIds) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>
    /// Kafka's OffsetCommit: commit offsets for a member of the current generation (or, with an empty member id and
    /// generation -1, for a group without members). Acknowledged once durable; the offsets are the same committed
    /// offsets the HTTP API shows.
    /// </summary>
    public sealed record CommitClassicOffsets(string Group, string MemberId, int Generation, PartitionOffset[] Offsets)
        : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>Reply to heartbeats, leaves and commits of the classic protocol.</summary>
    public sealed record ClassicGroupReply(ClassicGroupError Error, int Generation) : IActorGridMessage;

    /// <summary>Describe the group as Kafka's DescribeGroups shows it.</summary>
    public sealed record DescribeClassicGroup(string Group) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => Group;
    }

    /// <summary>A member as DescribeGroups shows it.</summary>
    public sealed record ClassicMemberView(string MemberId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment);

    /// <summary>Reply to <see cref="DescribeClassicGroup"/>; <paramref name="State"/> is Kafka's state name (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead).</summary>
    public sealed record ClassicGroupView(
        string Group, string State, string ProtocolType, string ProtocolName, int Generation, ClassicMemberView[] Members, PartitionOffset[] Committed)
        : IActorGridMessage;

    /// <summary>Find the offset of the first record appended at or after <paramref name="Timestamp"/> (Unix ms).</summary>
    public sealed record FindOffsetByTime(string Topic, int Partition, long Timestamp) : IActorGridMessage, IWithEntityId
    {
        /// <inheritdoc />
        [JsonIgnore]
        public string EntityId => PartitionEntityId(Topic, Partition);
    }

    /// <summary>
    /// Reply to <see cref="FindOffsetByTime"/>: every record below <paramref name="ScanFrom"/> is older than the
    /// timestamp (from the sparse time index); the answer is at or after it, at most <paramref name="EndOffset"/>.
    /// </summary>
    public sealed record OffsetByTimeHint(long ScanFrom, long EndOffset) : IActorGridMessage;

    // ------------------------------------------------------------------ manifests

    /// <summary>Binds every broker wire and journal type to its stable manifest. Never rename a manifest.</summary>
    public static void RegisterManifests(ManifestRegistry manifests) =>
        manifests
            .Add<BrokerError>("broker.error.v1")
            .Add<TopicConfig>("broker.topic-config.v1")
            .Add<CreateTopic>("broker.create-topic.v1")
            .Add<GetTopic>("broker.get-topic.v1")
            .Add<CreateTopicResult>("broker.create-topic-result.v1")
            .Add<TopicInfoReply>("broker.topic-info.v1")
            .Add<TopicCreated>("broker.topic-created.v1")
            .Add<DeleteTopic>("broker.delete-topic.v1")
            .Add<DeleteTopicResult>("broker.delete-topic-result.v1")
            .Add<TopicDeleted>("broker.topic-deleted.v1")
            .Add<UnregisterTopic>("broker.unregister-topic.v1")
            .Add<UnregisterTopicResult>("broker.unregister-topic-result.v1")
            .Add<TopicUnregistered>("broker.topic-unregistered.v1")
            .Add<DeletePartition>("broker.delete-partition.v1")
            .Add<PartitionDeleted>("broker.partition-deleted.v1")
            .Add<RegisterTopic>("broker.register-topic.v1")
            .Add<RegisterTopicResult>("broker.register-topic-result.v1")
            .Add<ListTopics>("broker.list-topics.v1")
            .Add<TopicListReply>("broker.topic-list.v1")
            .Add<TopicRegistered>("broker.topic-registered.v1")
            .Add<TopicDirectorySnapshot>("broker.topic-directory-snapshot.v1")
            .Add<AppendRecords>("broker.append.v1")
            .Add<AppendResult>("broker.append-result.v1")
            .Add<FetchRecords>("broker.fetch.v1")
            .Add<FetchResult>("broker.fetch-result.v1")
            .Add<GetPartitionInfo>("broker.get-partition-info.v1")
            .Add<PartitionInfoReply>("broker.partition-info.v1")
            .Add<RecordAppended>("broker.record-appended.v1")
            .Add<PartitionSnapshot>("broker.partition-snapshot.v1")
            .Add<JoinGroup>("broker.join-group.v1")
            .Add<JoinGroupResult>("broker.join-group-result.v1")
            .Add<BeginPoll>("broker.begin-poll.v1")
            .Add<PollPlan>("broker.poll-plan.v1")
            .Add<AdvancePositions>("broker.advance-positions.v1")
            .Add<PositionsAdvanced>("broker.positions-advanced.v1")
            .Add<CommitOffsets>("broker.commit-offsets.v1")
            .Add<CommitOffsetsResult>("broker.commit-offsets-result.v1")
            .Add<LeaveGroup>("broker.leave-group.v1")
            .Add<LeaveGroupResult>("broker.leave-group-result.v1")
            .Add<DescribeGroup>("broker.describe-group.v1")
            .Add<GroupDescription>("broker.group-description.v1")
            .Add<MemberJoined>("broker.member-joined.v1")
            .Add<MemberLeft>("broker.member-left.v1")
            .Add<MemberExpired>("broker.member-expired.v1")
            .Add<OffsetsCommitted>("broker.offsets-committed.v1")
            .Add<GroupSnapshot>("broker.group-snapshot.v1")
            .Add<ClassicGroupChanged>("broker.classic-group-changed.v1")
            .Add<GroupDeleted>("broker.group-deleted.v1")
            .Add<ResetGroupOffsets>("broker.reset-group-offsets.v1")
            .Add<ResetGroupOffsetsResult>("broker.reset-group-offsets-result.v1")
            .Add<DeleteGroup>("broker.delete-group.v1")
            .Add<DeleteGroupResult>("broker.delete-group-result.v1")
            .Add<JoinClassicGroup>("broker.classic-join.v1")
            .Add<ClassicJoinResult>("broker.classic-join-result.v1")
            .Add<SyncClassicGroup>("broker.classic-sync.v1")
            .Add<ClassicSyncResult>("broker.classic-sync-result.v1")
            .Add<ClassicHeartbeat>("broker.classic-heartbeat.v1")
            .Add<LeaveClassicGroup>("broker.classic-leave.v1")
            .Add<CommitClassicOffsets>("broker.classic-commit.v1")
            .Add<ClassicGroupReply>("broker.classic-reply.v1")
            .Add<DescribeClassicGroup>("broker.classic-describe.v1")
            .Add<ClassicGroupView>("broker.classic-view.v1")
            .Add<FindOffsetByTime>("broker.find-offset-by-time.v1")
            .Add<OffsetByTimeHint>("broker.offset-by-time-hint.v1");

    // ------------------------------------------------------------------ settings

    /// <summary>The broker role's settings. Immutable; derive variants with <c>with</c>.</summary>
    public sealed record Settings
    {
        // One definition of each default: the options a node binds from configuration (ActorGrid:Broker).
        private static readonly BrokerOptions Defaults = new();
        private static readonly PersistenceOptions PersistenceDefaults = new();

        /// <summary>Largest record value accepted, in bytes (<c>ActorGrid:Broker:MaxMessageBytes</c>; every setting but <see cref="SnapshotEvery"/> binds from <c>ActorGrid:Broker</c>).</summary>
        public int MaxMessageBytes { get; init; } = Defaults.MaxMessageBytes;

        /// <summary>Largest key accepted, in UTF-8 bytes.</summary>
        public int MaxKeyBytes { get; init; } = Defaults.MaxKeyBytes;

        /// <summary>Most partitions a topic may have.</summary>
        public int MaxPartitions { get; init; } = Defaults.MaxPartitions;

        /// <summary>Most records in one produce request.</summary>
        public int MaxRecordsPerRequest { get; init; } = Defaults.MaxRecordsPerRequest;

        /// <summary>Most records one fetch or poll returns.</summary>
        public int MaxFetchRecords { get; init; } = Defaults.MaxFetchRecords;

        /// <summary>Most records a partition writes to the journal in one batch (group commit).</summary>
        public int MaxWriteBatchRecords { get; init; } = Defaults.MaxWriteBatchRecords;

        /// <summary>How many of its newest records a partition keeps in memory; older reads page from the journal.</summary>
        public int TailMaxRecords { get; init; } = Defaults.TailMaxRecords;

        /// <summary>Memory bound of the in-memory tail, in bytes.</summary>
        public long TailMaxBytes { get; init; } = Defaults.TailMaxBytes;

        /// <summary>Most topics a consumer group member may subscribe to in one join.</summary>
        public int MaxJoinTopics { get; init; } = Defaults.MaxJoinTopics;

        /// <summary>Most offsets in one commit.</summary>
        public int MaxCommitOffsets { get; init; } = Defaults.MaxCommitOffsets;

        /// <summary>Most members of one consumer group.</summary>
        public int MaxMembersPerGroup { get; init; } = Defaults.MaxMembersPerGroup;

        /// <summary>Most topics in the grid.</summary>
        public int MaxTopics { get; init; } = Defaults.MaxTopics;

        /// <summary>How many recent batches per producer a partition remembers for deduplication.</summary>
        public int ProducerWindowBatches { get; init; } = Defaults.ProducerWindowBatches;

        /// <summary>How many producers per partition are remembered (least recently active are forgotten first).</summary>
        public int MaxProducersPerPartition { get; init; } = Defaults.MaxProducersPerPartition;

        /// <summary>
        /// A producer with no records in a partition for this long is forgotten there (as Kafka's producer-id expiry).
        /// A forgotten producer keeps only its highest sequence: a retry of anything older is refused, never appended twice.
        /// </summary>
        public TimeSpan ProducerExpiry { get; init; } = Defaults.ProducerExpiry;

        /// <summary>Records between time-index entries (age retention below the in-memory tail has this granularity).</summary>
        public long TimeIndexInterval { get; init; } = Defaults.TimeIndexInterval;

        /// <summary>Most time-index entries per partition (the interval doubles when exceeded).</summary>
        public int MaxTimeIndexEntries { get; init; } = Defaults.MaxTimeIndexEntries;

        /// <summary>Concurrent catch-up reads of the journal per partition; more wait in line.</summary>
        public int MaxConcurrentJournalReads { get; init; } = Defaults.MaxConcurrentJournalReads;

        /// <summary>Most parked long-poll fetches per partition; beyond it fetches answer at once.</summary>
        public int MaxWaitingFetches { get; init; } = Defaults.MaxWaitingFetches;

        /// <summary>How often a partition with retention checks for expired records.</summary>
        public TimeSpan RetentionCheckInterval { get; init; } = Defaults.RetentionCheckInterval;

        /// <summary>Session timeout of group members that do not ask for one.</summary>
        public TimeSpan DefaultSessionTimeout { get; init; } = Defaults.DefaultSessionTimeout;

        /// <summary>Smallest session timeout a member may ask for.</summary>
        public TimeSpan MinSessionTimeout { get; init; } = Defaults.MinSessionTimeout;

        /// <summary>Largest session timeout a member may ask for.</summary>
        public TimeSpan MaxSessionTimeout { get; init; } = Defaults.MaxSessionTimeout;

        /// <summary>Longest long-poll wait.</summary>
        public TimeSpan MaxWait { get; init; } = Defaults.MaxWait;

        /// <summary>How long the HTTP edge waits for an entity to answer (beyond any long-poll wait).</summary>
        public TimeSpan AskTimeout { get; init; } = Defaults.AskTimeout;

        /// <summary>Snapshot every this many events (<c>ActorGrid:Persistence:SnapshotEvery</c>).</summary>
        public int SnapshotEvery { get; init; } = PersistenceDefaults.SnapshotEvery;

        /// <summary>A partition snapshots at most this often, however fast records arrive.</summary>
        public TimeSpan MinSnapshotInterval { get; init; } = Defaults.MinSnapshotInterval;

        /// <summary>Shards per broker entity type.</summary>
        public int MaxShards { get; init; } = Defaults.MaxShards;

        /// <summary>
        /// The largest serialized message between nodes (the remoting frame less the envelope): no fetch reply
        /// (<see cref="StoredRecord.WireSize"/>) or append command is larger, and a record alone larger than this is
        /// refused rather than dropped in transit.
        /// </summary>
        public long MaxRemoteMessageBytes { get; init; } = ActorGridHocon.MaxRemoteMessageBytes(new ActorGridOptions());

        /// <summary>Settings from the node options (<c>ActorGrid:Broker</c>, one key per setting).</summary>
        public static Settings Create(ActorGridOptions options) => new()
        {
            MaxMessageBytes = options.Broker.MaxMessageBytes,
            MaxKeyBytes = options.Broker.MaxKeyBytes,
            MaxPartitions = options.Broker.MaxPartitions,
            MaxRecordsPerRequest = options.Broker.MaxRecordsPerRequest,
            MaxFetchRecords = options.Broker.MaxFetchRecords,
            MaxWriteBatchRecords = options.Broker.MaxWriteBatchRecords,
            TailMaxRecords = options.Broker.TailMaxRecords,
            TailMaxBytes = options.Broker.TailMaxBytes,
            MaxJoinTopics = options.Broker.MaxJoinTopics,
            MaxCommitOffsets = options.Broker.MaxCommitOffsets,
            MaxMembersPerGroup = options.Broker.MaxMembersPerGroup,
            MaxTopics = options.Broker.MaxTopics,
            ProducerWindowBatches = options.Broker.ProducerWindowBatches,
            MaxProducersPerPartition = options.Broker.MaxProducersPerPartition,
            ProducerExpiry = options.Broker.ProducerExpiry,
            TimeIndexInterval = options.Broker.TimeIndexInterval,
            MaxTimeIndexEntries = options.Broker.MaxTimeIndexEntries,
            MaxConcurrentJournalReads = options.Broker.MaxConcurrentJournalReads,
            MaxWaitingFetches = options.Broker.MaxWaitingFetches,
            RetentionCheckInterval = options.Broker.RetentionCheckInterval,
            DefaultSessionTimeout = options.Broker.DefaultSessionTimeout,
            MinSessionTimeout = options.Broker.MinSessionTimeout,
            MaxSessionTimeout = options.Broker.MaxSessionTimeout,
            MaxWait = options.Broker.MaxWait,
            AskTimeout = options.Broker.AskTimeout,
            MinSnapshotInterval = options.Broker.MinSnapshotInterval,
            MaxShards = options.Broker.MaxShards,
            SnapshotEvery = options.Persistence.SnapshotEvery,
            MaxRemoteMessageBytes = ActorGridHocon.MaxRemoteMessageBytes(options),
        };
    }
}
