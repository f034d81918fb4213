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
    public sealed record StoredRecord(long Offset, string? Key, byte[] Value, long Timestamp);

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

    /// <summary>Snapshot of the directory.</summary>
    public sealed record TopicDirectorySnapshot(string[] Topics) : IActorGridMessage;

    // ------------------------------------------------------------------ partition

    /// <summary>
    /// Append records to one partition, in order. Acknowledged with <see cref="AppendResult"/> only once they are
    /// in the journal. With <paramref name="ProducerId"/>, records whose sequences were already appended are not
    /// appended again; their original offsets are returned.
    /// </summary>
    public sealed record AppendRecords(string Topic, int Partition, string? ProducerId, NewRecord[] Records) : IActorGridMessage, IWithEntityId
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
    public sealed record JoinGroup(string Group, TopicSubscription[] Topics, int SessionTimeoutMs, string? MemberId)
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

    /// <summary>A fetch position: where the member reads next in a partition (null offset: from the start).</summary>
    public sealed record FetchPosition(string Topic, int Partition, long? Offset);

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

    /// <summary>Event: a member joined (or changed its subscription).</summary>
    public sealed record MemberJoined(string MemberId, TopicSubscription[] Topics, int SessionTimeoutMs) : IGroupEvent;

    /// <summary>Event: a member left.</summary>
    public sealed record MemberLeft(string MemberId) : IGroupEvent;

    /// <summary>Event: a member stopped polling for its session timeout and was removed.</summary>
    public sealed record MemberExpired(string MemberId) : IGroupEvent;

    /// <summary>Event: offsets were committed.</summary>
    public sealed record OffsetsCommitted(string MemberId, PartitionOffset[] Offsets) : IGroupEvent;

    /// <summary>A member in a group snapshot.</summary>
    public sealed record GroupMemberSnapshot(string MemberId, TopicSubscription[] Topics, int SessionTimeoutMs);

    /// <summary>Snapshot of a consumer group.</summary>
    public sealed record GroupSnapshot(int Generation, GroupMemberSnapshot[] Members, PartitionOffset[] Committed) : IActorGridMessage;

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
            .Add<GroupSnapshot>("broker.group-snapshot.v1");

    // ------------------------------------------------------------------ settings

    /// <summary>The broker role's settings. Immutable; derive variants with <c>with</c>.</summary>
    public sealed record Settings
    {
        /// <summary>Largest record value accepted, in bytes (<c>ActorGrid:Broker:MaxMessageBytes</c>).</summary>
        public int MaxMessageBytes { get; init; } = 1024 * 1024;

        /// <summary>Largest key accepted, in UTF-8 bytes.</summary>
        public int MaxKeyBytes { get; init; } = 1024;

        /// <summary>Most partitions a topic may have.</summary>
        public int MaxPartitions { get; init; } = 1024;

        /// <summary>Most records in one produce request.</summary>
        public int MaxRecordsPerRequest { get; init; } = 10_000;

        /// <summary>Most records one fetch or poll returns.</summary>
        public int MaxFetchRecords { get; init; } = 1000;

        /// <summary>Most records a partition writes to the journal in one batch (group commit).</summary>
        public int MaxWriteBatchRecords { get; init; } = 10_000;

        /// <summary>How many of its newest records a partition keeps in memory; older reads page from the journal.</summary>
        public int TailMaxRecords { get; init; } = 10_000;

        /// <summary>Memory bound of the in-memory tail, in bytes.</summary>
        public long TailMaxBytes { get; init; } = 16L * 1024 * 1024;

        /// <summary>Most topics a consumer group member may subscribe to in one join.</summary>
        public int MaxJoinTopics { get; init; } = 100;

        /// <summary>Most offsets in one commit.</summary>
        public int MaxCommitOffsets { get; init; } = 10_000;

        /// <summary>Most members of one consumer group.</summary>
        public int MaxMembersPerGroup { get; init; } = 1000;

        /// <summary>Most topics in the grid.</summary>
        public int MaxTopics { get; init; } = 10_000;

        /// <summary>How many recent batches per producer a partition remembers for deduplication.</summary>
        public int ProducerWindowBatches { get; init; } = 16;

        /// <summary>How many producers per partition are remembered (least recently active are forgotten first).</summary>
        public int MaxProducersPerPartition { get; init; } = 1000;

        /// <summary>
        /// A producer with no records in a partition for this long is forgotten there (as Kafka's producer-id expiry).
        /// A forgotten producer keeps only its highest sequence: a retry of anything older is refused, never appended twice.
        /// </summary>
        public TimeSpan ProducerExpiry { get; init; } = TimeSpan.FromDays(1);

        /// <summary>Records between time-index entries (age retention below the in-memory tail has this granularity).</summary>
        public long TimeIndexInterval { get; init; } = 1024;

        /// <summary>Most time-index entries per partition (the interval doubles when exceeded).</summary>
        public int MaxTimeIndexEntries { get; init; } = 4096;

        /// <summary>Concurrent catch-up reads of the journal per partition; more wait in line.</summary>
        public int MaxConcurrentJournalReads { get; init; } = 4;

        /// <summary>Most parked long-poll fetches per partition; beyond it fetches answer at once.</summary>
        public int MaxWaitingFetches { get; init; } = 10_000;

        /// <summary>How often a partition with retention checks for expired records.</summary>
        public TimeSpan RetentionCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

        /// <summary>Session timeout of group members that do not ask for one.</summary>
        public TimeSpan DefaultSessionTimeout { get; init; } = TimeSpan.FromSeconds(10);

        /// <summary>Smallest session timeout a member may ask for.</summary>
        public TimeSpan MinSessionTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

        /// <summary>Largest session timeout a member may ask for.</summary>
        public TimeSpan MaxSessionTimeout { get; init; } = TimeSpan.FromMinutes(5);

        /// <summary>Longest long-poll wait.</summary>
        public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(30);

        /// <summary>How long the HTTP edge waits for an entity to answer (beyond any long-poll wait).</summary>
        public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(10);

        /// <summary>Snapshot every this many events (<c>ActorGrid:Persistence:SnapshotEvery</c>).</summary>
        public int SnapshotEvery { get; init; } = 1000;

        /// <summary>A partition snapshots at most this often, however fast records arrive.</summary>
        public TimeSpan MinSnapshotInterval { get; init; } = TimeSpan.FromSeconds(1);

        /// <summary>Shards per broker entity type.</summary>
        public int MaxShards { get; init; } = 100;

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
            ProducerWindowBatches = options.Broker.ProducerWindowBatches,
            MaxProducersPerPartition = options.Broker.MaxProducersPerPartition,
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
        };
    }
}
