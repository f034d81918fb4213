#nullable enable
using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace ActorGrid.Client;

/// <summary>The broker (<see cref="BrokerClient"/>).</summary>
public interface IBrokerClient
{
    Task<TopicCreation> CreateTopicAsync(string topic, int partitions, long? retentionMessages = null, long? retentionSeconds = null, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<TopicInfo>> ListTopicsAsync(CancellationToken cancellationToken = default);

    Task<TopicInfo> GetTopicAsync(string topic, CancellationToken cancellationToken = default);

    Task DeleteTopicAsync(string topic, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<RecordPosition>> ProduceAsync(string topic, IEnumerable<ProducerRecord> records, string? producerId = null, long? sequence = null, CancellationToken cancellationToken = default);

    Task<RecordPosition> ProduceTextAsync(string topic, string? key, string value, CancellationToken cancellationToken = default);

    Task<FetchedPage> FetchAsync(string topic, int partition, long? offset = null, int max = 100, int waitMs = 0, CancellationToken cancellationToken = default);

    Task<GroupMembership> JoinGroupAsync(string group, IEnumerable<string> topics, int? sessionTimeoutMs = null, string? memberId = null, CancellationToken cancellationToken = default);

    Task<GroupPoll> PollAsync(string group, string memberId, int max = 100, int waitMs = 1000, CancellationToken cancellationToken = default);

    Task<int> CommitAsync(string group, string memberId, IEnumerable<TopicOffset> offsets, int? generation = null, CancellationToken cancellationToken = default);

    Task<int> CommitAsync(string group, string memberId, IEnumerable<GroupRecord> records, CancellationToken cancellationToken = default);

    Task LeaveGroupAsync(string group, string memberId, CancellationToken cancellationToken = default);

    Task<GroupInfo> GetGroupAsync(string group, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<GroupInfo>> ListGroupsAsync(CancellationToken cancellationToken = default);

    Task<GroupInfo> ResetGroupOffsetsAsync(string group, string reset, DateTimeOffset? timestamp = null, CancellationToken cancellationToken = default);

    Task DeleteGroupAsync(string group, CancellationToken cancellationToken = default);

    IAsyncEnumerable<GroupStreamEvent> StreamAsync(string group, IEnumerable<string> topics, int max = 100, int? sessionTimeoutMs = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// The broker: topics, producing (optionally idempotent), reading partitions, consumer groups (pull) and the push
/// stream (Server-Sent Events).
/// </summary>
public sealed class BrokerClient(HttpClient http) : IBrokerClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // ---------------------------------------------------------------- topics

    /// <summary>
    /// <c>PUT /topics/{topic}</c>: creates the topic, or finds it already there with the same settings
    /// (<see cref="TopicCreation.Created"/> false). A different existing topic throws (409).
    /// </summary>
    public async Task<TopicCreation> CreateTopicAsync(
        string topic, int partitions, long? retentionMessages = null, long? retentionSeconds = null, CancellationToken cancellationToken = default)
    {
        // Creating a topic that exists with the same settings answers 200: repeating the call is harmless.
        using var response = await http.SendJsonAsync(HttpMethod.Put, TopicPath(topic), new { partitions, retentionMessages, retentionSeconds }, idempotent: true, cancellationToken);
        var info = await ReadAsync<TopicInfo>(response, cancellationToken);
        return new TopicCreation(response.StatusCode == HttpStatusCode.Created, info);
    }

    /// <summary><c>GET /topics</c>: every topic with its partitions' offsets.</summary>
    public async Task<IReadOnlyList<TopicInfo>> ListTopicsAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("topics", cancellationToken);
        return (await ReadAsync<TopicList>(response, cancellationToken)).Topics;
    }

    /// <summary><c>GET /topics/{topic}</c>: the topic with its partitions' start and end offsets.</summary>
    public async Task<TopicInfo> GetTopicAsync(string topic, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(TopicPath(topic), cancellationToken);
        return await ReadAsync<TopicInfo>(response, cancellationToken);
    }

    /// <summary>
    /// <c>DELETE /topics/{topic}</c>: deletes the topic and its records (admin scope). Throws (404) when there is no
    /// such topic. A topic created again under the name starts empty.
    /// </summary>
    public async Task DeleteTopicAsync(string topic, CancellationToken cancellationToken = default)
    {
        using var response = await http.DeleteAsync(TopicPath(topic), cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
    }

    // ---------------------------------------------------------------- produce / fetch

    /// <summary>
    /// <c>POST /topics/{topic}/messages</c>: appends the records and returns where each went, once all are durable.
    /// With <paramref name="producerId"/>, record i carries sequence <paramref name="sequence"/> + i, and retrying
    /// the same call appends nothing twice.
    /// </summary>
    public async Task<IReadOnlyList<RecordPosition>> ProduceAsync(
        string topic, IEnumerable<ProducerRecord> records, string? producerId = null, long? sequence = null, CancellationToken cancellationToken = default)
    {
        var body = new { records = records.ToList(), producerId, sequence };
        // With a producer id the node deduplicates a repeated batch (same id and sequences) and answers the original offsets.
        using var response = await http.SendJsonAsync(HttpMethod.Post, TopicPath(topic) + "/messages", body, idempotent: producerId is not null, cancellationToken);
        return (await ReadAsync<ProduceResponse>(response, cancellationToken)).Results;
    }

    /// <summary>Appends one text record.</summary>
    public async Task<RecordPosition> ProduceTextAsync(string topic, string? key, string value, CancellationToken cancellationToken = default) =>
        (await ProduceAsync(topic, [ProducerRecord.Text(key, value)], cancellationToken: cancellationToken))[0];

    /// <summary>
    /// <c>GET /topics/{topic}/partitions/{partition}/messages</c>: records from <paramref name="offset"/> (null: the
    /// partition's start), waiting up to <paramref name="waitMs"/> when there are none yet.
    /// </summary>
    public async Task<FetchedPage> FetchAsync(
        string topic, int partition, long? offset = null, int max = 100, int waitMs = 0, CancellationToken cancellationToken = default)
    {
        var query = $"?max={max}&waitMs={waitMs}" + (offset is null ? "" : $"&offset={offset}");
        using var response = await http.GetAsync($"{TopicPath(topic)}/partitions/{partition}/messages{query}", cancellationToken);
        return await ReadAsync<FetchedPage>(response, cancellationToken);
    }

    // ---------------------------------------------------------------- consumer groups

    /// <summary><c>POST /groups/{group}/join</c>: joins (or, with <paramref name="memberId"/>, rejoins) the group.</summary>
    public async Task<GroupMembership> JoinGroupAsync(
        string group, IEnumerable<string> topics, int? sessionTimeoutMs = null, string? memberId = null, CancellationToken cancellationToken = default)
    {
        using var response = await http.SendJsonAsync(HttpMethod.Post, GroupPath(group) + "/join", new { topics = topics.ToList(), sessionTimeoutMs, memberId }, idempotent: false, cancellationToken);
        return await ReadAsync<GroupMembership>(response, cancellationToken);
    }

    /// <summary>
    /// <c>POST /groups/{group}/poll</c>: records from the member's partitions from its positions (the committed
    /// offsets after a rebalance; the start when none), waiting up to <paramref name="waitMs"/>. Also the heartbeat.
    /// </summary>
    public async Task<GroupPoll> PollAsync(string group, string memberId, int max = 100, int waitMs = 1000, CancellationToken cancellationToken = default)
    {
        // Not repeated: a poll whose answer was lost has moved the member past its records.
        using var response = await http.SendJsonAsync(HttpMethod.Post, GroupPath(group) + "/poll", new { memberId, max, waitMs }, idempotent: false, cancellationToken);
        return await ReadAsync<GroupPoll>(response, cancellationToken);
    }

    /// <summary><c>POST /groups/{group}/commit</c>: commits the next offsets to read; returns the group's generation.</summary>
    public async Task<int> CommitAsync(
        string group, string memberId, IEnumerable<TopicOffset> offsets, int? generation = null, CancellationToken cancellationToken = default)
    {
        using var response = await http.SendJsonAsync(HttpMethod.Post, GroupPath(group) + "/commit", new { memberId, generation, offsets = offsets.ToList() }, idempotent: true, cancellationToken);
        return (await ReadAsync<GenerationBody>(response, cancellationToken)).Generation;
    }

    /// <summary>Commits the offset after each partition's last record in <paramref name="records"/>.</summary>
    public Task<int> CommitAsync(string group, string memberId, IEnumerable<GroupRecord> records, CancellationToken cancellationToken = default) =>
        CommitAsync(group, memberId, records.GroupBy(r => (r.Topic, r.Partition))
            .Select(g => new TopicOffset(g.Key.Topic, g.Key.Partition, g.Max(r => r.Offset) + 1)), cancellationToken: cancellationToken);

    /// <summary><c>POST /groups/{group}/leave</c>.</summary>
    public async Task LeaveGroupAsync(string group, string memberId, CancellationToken cancellationToken = default)
    {
        using var response = await http.SendJsonAsync(HttpMethod.Post, GroupPath(group) + "/leave", new { memberId }, idempotent: true, cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
    }

    /// <summary><c>GET /groups/{group}</c>: members, assignments, committed offsets and lag.</summary>
    public async Task<GroupInfo> GetGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(GroupPath(group), cancellationToken);
        return await ReadAsync<GroupInfo>(response, cancellationToken);
    }

    /// <summary><c>GET /groups</c>: the groups (that the caller may read) with their members, committed offsets and lag.</summary>
    public async Task<IReadOnlyList<GroupInfo>> ListGroupsAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("groups", cancellationToken);
        return (await ReadAsync<GroupList>(response, cancellationToken)).Groups;
    }

    /// <summary>
    /// <c>POST /groups/{group}/offsets</c> (admin scope): sets the committed offsets of every partition the group has
    /// committed for to the start (<paramref name="reset"/> <c>earliest</c>), the end (<c>latest</c>) or the first
    /// record at or after <paramref name="timestamp"/> (<c>timestamp</c>). The group must have no live members (409).
    /// </summary>
    public async Task<GroupInfo> ResetGroupOffsetsAsync(string group, string reset, DateTimeOffset? timestamp = null, CancellationToken cancellationToken = default)
    {
        // Setting offsets to the same target again is harmless.
        using var response = await http.SendJsonAsync(HttpMethod.Post, GroupPath(group) + "/offsets", new { reset, timestamp }, idempotent: true, cancellationToken);
        return await ReadAsync<GroupInfo>(response, cancellationToken);
    }

    /// <summary><c>DELETE /groups/{group}</c> (admin scope): deletes the group and its committed offsets; it must have no live members (409).</summary>
    public async Task DeleteGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        using var response = await http.DeleteAsync(GroupPath(group), cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
    }

    /// <summary>
    /// <c>GET /groups/{group}/stream?topics=...</c>: joins the group and yields its push stream — an
    /// <see cref="GroupStreamEvent.Assigned"/> first (and on every rebalance), then the records. Enumerate at your own
    /// pace: the node only reads ahead as far as you read. Commit with <see cref="CommitAsync(string, string, IEnumerable{GroupRecord}, CancellationToken)"/>
    /// using the assigned member id; stop enumerating (or cancel) to leave the group.
    /// </summary>
    public async IAsyncEnumerable<GroupStreamEvent> StreamAsync(
        string group, IEnumerable<string> topics, int max = 100, int? sessionTimeoutMs = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = $"?topics={Uri.EscapeDataString(string.Join(',', topics))}&max={max}" + (sessionTimeoutMs is null ? "" : $"&sessionTimeoutMs={sessionTimeoutMs}");
        using var request = new HttpRequestMessage(HttpMethod.Get, GroupPath(group) + "/stream" + query);
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            switch (item.EventType)
            {
                case "assigned":
                    yield return new GroupStreamEvent.Assigned(JsonSerializer.Deserialize<GroupMembership>(item.Data, Json)!);
                    break;
                case "record":
                    yield return new GroupStreamEvent.Record(item.EventId ?? "", JsonSerializer.Deserialize<GroupRecord>(item.Data, Json)!);
                    break;
            }
        }
    }

    private static string TopicPath(string topic) => "topics/" + Uri.EscapeDataString(topic);

    private static string GroupPath(string group) => "groups/" + Uri.EscapeDataString(group);

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    private sealed record TopicList(IReadOnlyList<TopicInfo> Topics);

    private sealed record GroupList(IReadOnlyList<GroupInfo> Groups);

    private sealed record ProduceResponse(IReadOnlyList<RecordPosition> Results);

    private sealed record GenerationBody(int Generation);
}

/// <summary>A record to produce: text (<see cref="Value"/>) or bytes (<see cref="ValueBase64"/>).</summary>
public sealed record ProducerRecord(string? Key, string? Value, string? ValueBase64 = null)
{
    /// <summary>A text record.</summary>
    public static ProducerRecord Text(string? key, string value) => new(key, value);

    /// <summary>A binary record.</summary>
    public static ProducerRecord Binary(string? key, ReadOnlySpan<byte> value) => new(key, null, Convert.ToBase64String(value));
}

/// <summary>Where a produced record went.</summary>
public sealed record RecordPosition(int Partition, long Offset);

/// <summary>The answer of <c>PUT /topics/{topic}</c>.</summary>
public sealed record TopicCreation(bool Created, TopicInfo Topic);

/// <summary>A topic and its partitions.</summary>
public sealed record TopicInfo(string Name, int PartitionCount, long? RetentionMessages, long? RetentionSeconds, IReadOnlyList<PartitionOffsets> Partitions);

/// <summary>A partition's readable range: records live at [<see cref="StartOffset"/>, <see cref="EndOffset"/>).</summary>
public sealed record PartitionOffsets(int Partition, long StartOffset, long EndOffset);

/// <summary>A record read from a partition.</summary>
public sealed record BrokerRecord(long Offset, string? Key, string? Value, string? ValueBase64, DateTimeOffset Timestamp)
{
    /// <summary>The value's bytes (UTF-8 of <see cref="Value"/>, or the decoded <see cref="ValueBase64"/>).</summary>
    public byte[] GetBytes() => ValueBase64 is { } b ? Convert.FromBase64String(b) : Encoding.UTF8.GetBytes(Value ?? "");
}

/// <summary>A page read from a partition.</summary>
public sealed record FetchedPage(IReadOnlyList<BrokerRecord> Records, long NextOffset, long StartOffset, long EndOffset);

/// <summary>One partition of one topic.</summary>
public sealed record TopicPartition(string Topic, int Partition);

/// <summary>An offset of one partition (to commit: the next offset to read).</summary>
public sealed record TopicOffset(string Topic, int Partition, long Offset);

/// <summary>A group member's identity, generation and partitions.</summary>
public sealed record GroupMembership(string MemberId, int Generation, IReadOnlyList<TopicPartition> Assignments);

/// <summary>A record delivered to a group member.</summary>
public sealed record GroupRecord(string Topic, int Partition, long Offset, string? Key, string? Value, string? ValueBase64, DateTimeOffset Timestamp)
{
    /// <summary>The value's bytes.</summary>
    public byte[] GetBytes() => ValueBase64 is { } b ? Convert.FromBase64String(b) : Encoding.UTF8.GetBytes(Value ?? "");
}

/// <summary>The answer of a poll.</summary>
public sealed record GroupPoll(int Generation, IReadOnlyList<TopicPartition> Assignments, IReadOnlyList<GroupRecord> Records);

/// <summary>A consumer group as described by <c>GET /groups/{group}</c>.</summary>
public sealed record GroupInfo(string Group, int Generation, IReadOnlyList<GroupMemberInfo> Members, IReadOnlyList<GroupPartitionInfo> Offsets, long TotalLag);

/// <summary>A member of a group.</summary>
public sealed record GroupMemberInfo(
    string MemberId, IReadOnlyList<string> Topics, int SessionTimeoutMs, long IdleMs, IReadOnlyList<TopicPartition> Assignments, IReadOnlyList<TopicOffset> Positions);

/// <summary>A partition's committed offset and lag in a group.</summary>
public sealed record GroupPartitionInfo(string Topic, int Partition, long? Committed, long StartOffset, long EndOffset, long Lag);

/// <summary>An event of a group's push stream.</summary>
public abstract record GroupStreamEvent
{
    /// <summary>The member's identity and partitions (first, and after every rebalance).</summary>
    public sealed record Assigned(GroupMembership Membership) : GroupStreamEvent;

    /// <summary>A record; <see cref="Id"/> is <c>topic/partition/offset</c>.</summary>
    public sealed record Record(string Id, GroupRecord Value) : GroupStreamEvent;
}
