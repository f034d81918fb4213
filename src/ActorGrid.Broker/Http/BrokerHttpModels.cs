#nullable enable
using System.Text;
using System.Text.Json.Serialization;
using ActorGrid.Broker.Gateway;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Http;

// The JSON shapes of the broker's HTTP API (SPEC §5), in web (camelCase) naming.

internal sealed record CreateTopicRequest(int? Partitions, long? RetentionMessages, long? RetentionSeconds);

internal sealed record ProduceRequest(ProduceRecordJson[]? Records, string? ProducerId, long? Sequence);

internal sealed record ProduceRecordJson(string? Key, string? Value, string? ValueBase64);

internal sealed record ProduceResponse(IReadOnlyList<ProducedRecordJson> Results);

internal sealed record ProducedRecordJson(int Partition, long Offset);

internal sealed record TopicJson(string Name, int PartitionCount, long? RetentionMessages, long? RetentionSeconds, IReadOnlyList<PartitionJson> Partitions)
{
    public static TopicJson From(TopicDescription d) => new(
        d.Config.Name, d.Config.Partitions, d.Config.RetentionMessages, d.Config.RetentionSeconds,
        [.. d.Partitions.Select(p => new PartitionJson(p.Partition, p.StartOffset, p.EndOffset))]);
}

internal sealed record PartitionJson(int Partition, long StartOffset, long EndOffset);

internal sealed record TopicListJson(IReadOnlyList<TopicJson> Topics);

internal sealed record RecordJson(
    long Offset,
    string? Key,
    string? Value,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ValueBase64,
    DateTimeOffset Timestamp)
{
    public static RecordJson From(StoredRecord r)
    {
        var (value, base64) = RecordValue.Encode(r.Value);
        return new RecordJson(r.Offset, r.Key, value, base64, DateTimeOffset.FromUnixTimeMilliseconds(r.Timestamp));
    }
}

internal sealed record FetchResponse(IReadOnlyList<RecordJson> Records, long NextOffset, long StartOffset, long EndOffset);

internal sealed record JoinRequest(string[]? Topics, int? SessionTimeoutMs, string? MemberId, string? AutoOffsetReset = null);

/// <summary><c>POST /groups/{group}/offsets</c>: reset is earliest, latest or timestamp; topics default to those the group committed.</summary>
internal sealed record ResetOffsetsRequest(string? Reset, System.Text.Json.JsonElement? Timestamp, string[]? Topics);

internal sealed record TopicPartitionJson(string Topic, int Partition);

internal sealed record JoinResponse(string MemberId, int Generation, IReadOnlyList<TopicPartitionJson> Assignments);

internal sealed record PollRequest(string? MemberId, int? Max, int? WaitMs, int? MaxBytes);

internal sealed record GroupRecordJson(
    string Topic,
    int Partition,
    long Offset,
    string? Key,
    string? Value,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ValueBase64,
    DateTimeOffset Timestamp)
{
    public static GroupRecordJson From(GroupRecord r)
    {
        var (value, base64) = RecordValue.Encode(r.Record.Value);
        return new GroupRecordJson(r.Topic, r.Partition, r.Record.Offset, r.Record.Key, value, base64, DateTimeOffset.FromUnixTimeMilliseconds(r.Record.Timestamp));
    }
}

internal sealed record PollResponse(int Generation, IReadOnlyList<TopicPartitionJson> Assignments, IReadOnlyList<GroupRecordJson> Records);

internal sealed record CommitRequest(string? MemberId, int? Generation, OffsetJson[]? Offsets);

internal sealed record OffsetJson(string? Topic, int Partition, long Offset);

internal sealed record CommitResponse(int Generation);

internal sealed record LeaveRequest(string? MemberId);

internal sealed record LeaveResponse(int Generation);

internal sealed record GroupMemberJson(
    string MemberId,
    IReadOnlyList<string> Topics,
    int SessionTimeoutMs,
    long IdleMs,
    IReadOnlyList<TopicPartitionJson> Assignments,
    IReadOnlyList<OffsetJson> Positions);

internal sealed record GroupOffsetJson(string Topic, int Partition, long? Committed, long StartOffset, long EndOffset, long Lag);

internal sealed record GroupResponse(string Group, int Generation, IReadOnlyList<GroupMemberJson> Members, IReadOnlyList<GroupOffsetJson> Offsets, long TotalLag)
{
    public static GroupResponse From(GroupView view) => new(
        view.Description.Group,
        view.Description.Generation,
        [.. view.Description.Members.Select(m => new GroupMemberJson(
            m.MemberId, m.Topics, m.SessionTimeoutMs, m.IdleMs,
            [.. m.Assignments.Select(a => new TopicPartitionJson(a.Topic, a.Partition))],
            [.. m.Positions.Select(p => new OffsetJson(p.Topic, p.Partition, p.Offset))]))],
        [.. view.Partitions.Select(p => new GroupOffsetJson(p.Topic, p.Partition, p.Committed, p.StartOffset, p.EndOffset, p.Lag))],
        view.TotalLag);
}

internal sealed record AssignedEventJson(string MemberId, int Generation, IReadOnlyList<TopicPartitionJson> Assignments);

/// <summary>Record values on the wire: <c>value</c> when the bytes are UTF-8 text, else <c>valueBase64</c>.</summary>
internal static class RecordValue
{
    public static (string? Value, string? Base64) Encode(byte[] bytes) =>
        System.Text.Unicode.Utf8.IsValid(bytes) ? (Encoding.UTF8.GetString(bytes), null) : (null, Convert.ToBase64String(bytes));
}
