#nullable enable
namespace ActorGrid.Kafka.Protocol;

/// <summary>The Kafka APIs the door serves (api keys of the Kafka protocol).</summary>
public enum ApiKey : short
{
    /// <summary>Produce.</summary>
    Produce = 0,

    /// <summary>Fetch.</summary>
    Fetch = 1,

    /// <summary>ListOffsets.</summary>
    ListOffsets = 2,

    /// <summary>Metadata.</summary>
    Metadata = 3,

    /// <summary>OffsetCommit.</summary>
    OffsetCommit = 8,

    /// <summary>OffsetFetch.</summary>
    OffsetFetch = 9,

    /// <summary>FindCoordinator.</summary>
    FindCoordinator = 10,

    /// <summary>JoinGroup.</summary>
    JoinGroup = 11,

    /// <summary>Heartbeat.</summary>
    Heartbeat = 12,

    /// <summary>LeaveGroup.</summary>
    LeaveGroup = 13,

    /// <summary>SyncGroup.</summary>
    SyncGroup = 14,

    /// <summary>DescribeGroups.</summary>
    DescribeGroups = 15,

    /// <summary>ListGroups.</summary>
    ListGroups = 16,

    /// <summary>SaslHandshake.</summary>
    SaslHandshake = 17,

    /// <summary>ApiVersions.</summary>
    ApiVersions = 18,

    /// <summary>CreateTopics.</summary>
    CreateTopics = 19,

    /// <summary>DeleteTopics.</summary>
    DeleteTopics = 20,

    /// <summary>InitProducerId.</summary>
    InitProducerId = 22,

    /// <summary>SaslAuthenticate.</summary>
    SaslAuthenticate = 36,
}

/// <summary>A served API's version range and its first flexible version (compact fields, tagged fields, header v2).</summary>
public sealed record ApiVersionRange(ApiKey Key, short Min, short Max, short FlexibleFrom)
{
    /// <summary>Whether <paramref name="version"/> is served.</summary>
    public bool Supports(short version) => version >= Min && version <= Max;

    /// <summary>Whether <paramref name="version"/> is a flexible version.</summary>
    public bool IsFlexible(short version) => version >= FlexibleFrom;
}

/// <summary>
/// The versions served. Each range covers what librdkafka 2.x asks for up to a version whose fields this door
/// fills truthfully; librdkafka uses the highest version both sides support.
/// </summary>
public static class KafkaApiVersions
{
    /// <summary>Every served API, by key.</summary>
    public static readonly IReadOnlyDictionary<ApiKey, ApiVersionRange> All = new ApiVersionRange[]
    {
        new(ApiKey.Produce, 3, 8, 9),
        new(ApiKey.Fetch, 4, 11, 12),
        new(ApiKey.ListOffsets, 1, 5, 6),
        new(ApiKey.Metadata, 0, 9, 9),
        new(ApiKey.OffsetCommit, 2, 7, 8),
        new(ApiKey.OffsetFetch, 1, 5, 6),
        new(ApiKey.FindCoordinator, 0, 2, 3),
        new(ApiKey.JoinGroup, 0, 5, 6),
        new(ApiKey.Heartbeat, 0, 3, 4),
        new(ApiKey.LeaveGroup, 0, 1, 4),
        new(ApiKey.SyncGroup, 0, 3, 4),
        new(ApiKey.DescribeGroups, 0, 4, 5),
        new(ApiKey.ListGroups, 0, 2, 3),
        new(ApiKey.SaslHandshake, 1, 1, short.MaxValue),
        new(ApiKey.ApiVersions, 0, 3, 3),
        new(ApiKey.CreateTopics, 0, 4, 5),
        new(ApiKey.DeleteTopics, 0, 3, 4),
        new(ApiKey.InitProducerId, 0, 1, 2),
        new(ApiKey.SaslAuthenticate, 0, 1, 2),
    }.ToDictionary(r => r.Key);
}

/// <summary>Kafka error codes the door answers with.</summary>
public static class KafkaError
{
    public const short None = 0;
    public const short UnknownServerError = -1;
    public const short OffsetOutOfRange = 1;
    public const short CorruptMessage = 2;
    public const short UnknownTopicOrPartition = 3;
    public const short LeaderNotAvailable = 5;
    public const short NotLeaderOrFollower = 6;
    public const short RequestTimedOut = 7;
    public const short MessageTooLarge = 10;
    public const short CoordinatorNotAvailable = 15;
    public const short InvalidTopic = 17;
    public const short IllegalGeneration = 22;
    public const short InconsistentGroupProtocol = 23;
    public const short InvalidGroupId = 24;
    public const short UnknownMemberId = 25;
    public const short InvalidSessionTimeout = 26;
    public const short RebalanceInProgress = 27;
    public const short TopicAuthorizationFailed = 29;
    public const short GroupAuthorizationFailed = 30;
    public const short ClusterAuthorizationFailed = 31;
    public const short UnsupportedSaslMechanism = 33;
    public const short IllegalSaslState = 34;
    public const short UnsupportedVersion = 35;
    public const short TopicAlreadyExists = 36;
    public const short InvalidPartitions = 37;
    public const short InvalidReplicationFactor = 38;
    public const short InvalidRequest = 42;
    public const short OutOfOrderSequenceNumber = 45;
    public const short SaslAuthenticationFailed = 58;
    public const short TopicDeletionDisabled = 73;
}
