#nullable enable
using ActorGrid.Http;

namespace ActorGrid.Broker.Http;

/// <summary>The broker endpoints' bodies for the OpenAPI document.</summary>
internal static class BrokerApiDescription
{
    public static HttpApiDescription DescribeBroker(this HttpApiDescription api) => api
        .Add("PUT", "/topics/{topic}", "Create a topic (201; 200 when an identical one exists; 409 when a different one does)",
            typeof(TopicJson), status: 201, request: typeof(CreateTopicRequest), problems: [400, 409])
        .Add("DELETE", "/topics/{topic}", "Delete a topic and its partitions' records (204; 404 when absent)", null, status: 204, problems: [400, 404])
        .Add("GET", "/topics", "List topics with their partitions' offsets", typeof(TopicListJson))
        .Add("GET", "/topics/{topic}", "Describe a topic", typeof(TopicJson), problems: [400, 404])
        .Add("POST", "/topics/{topic}/messages", "Produce records (durable when answered; with producerId, retries append nothing twice)",
            typeof(ProduceResponse), request: typeof(ProduceRequest), problems: [400, 404, 409, 413])
        .Add("GET", "/topics/{topic}/partitions/{partition}/messages", "Read a partition from an offset (?offset=&max=&waitMs= long-poll)",
            typeof(FetchResponse), problems: [400, 404, 416])
        .Add("POST", "/groups/{group}/join", "Join a consumer group", typeof(JoinResponse), request: typeof(JoinRequest), problems: [400, 404])
        .Add("POST", "/groups/{group}/poll", "Poll the member's partitions (also its heartbeat)", typeof(PollResponse), request: typeof(PollRequest), problems: [400, 404])
        .Add("POST", "/groups/{group}/commit", "Commit the next offsets to read", typeof(CommitResponse), request: typeof(CommitRequest), problems: [400, 404, 409])
        .Add("POST", "/groups/{group}/leave", "Leave the group", typeof(LeaveResponse), request: typeof(LeaveRequest), problems: [400, 404])
        .Add("GET", "/groups", "List consumer groups (that the caller may read) with their members, committed offsets and lag", typeof(GroupList))
        .Add("POST", "/groups/{group}/offsets", "Reset a group's committed offsets to earliest, latest or a timestamp (409 while it has live members)",
            typeof(GroupResponse), request: typeof(ResetOffsetsRequest), problems: [400, 404, 409])
        .Add("DELETE", "/groups/{group}", "Delete a group and its committed offsets (204; 409 while it has live members)", null, status: 204, problems: [400, 404, 409])
        .Add("GET", "/groups/{group}", "Describe a group: members, assignments, committed offsets, lag", typeof(GroupResponse), problems: [400, 404])
        .Add("GET", "/groups/{group}/stream", "Join and receive the group's records as Server-Sent Events (assigned, then record events)",
            typeof(string), responseContentType: "text/event-stream", problems: [400, 404]);

    /// <summary>The shape of <c>GET /groups</c>.</summary>
    internal sealed record GroupList(IReadOnlyList<GroupResponse> Groups);
}
