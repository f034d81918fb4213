#nullable enable
using System.Text.Json;
using ActorGrid.Http;

namespace ActorGrid.MapReduce;

/// <summary>
/// The <c>/jobs</c> endpoints' bodies for the OpenAPI document. The endpoints read and write JSON themselves; these
/// records give the same shapes a schema.
/// </summary>
internal static class MapReduceApiDescription
{
    public static HttpApiDescription DescribeMapReduce(this HttpApiDescription api) => api
        .Add("POST", "/jobs", "Submit a job (accepted once durable; resubmitting under the same jobId is idempotent)",
            typeof(JobAccepted), status: 202, request: typeof(JobSubmission), problems: [400, 409, 413])
        .Add("GET", "/jobs", "The most recent jobs, newest first (?limit=)", typeof(JobList), problems: [400])
        .Add("GET", "/jobs/{id}", "A job's state, progress and counters", typeof(JobView), problems: [404])
        .Add("GET", "/jobs/{id}/result", "A page of a completed job's output in key order (?limit=&after=)", typeof(JobResultPage), problems: [400, 404, 409])
        .Add("DELETE", "/jobs/{id}", "Cancel a running job", typeof(JobView), problems: [404, 409]);

    internal sealed record JobSubmission(string Type, JobInputBody Input, JobOutputBody? Output, int? Reducers, JsonElement? Parameters, string? JobId);

    internal sealed record JobInputBody(string? Text, string? KvPrefix, string? Topic);

    internal sealed record JobOutputBody(string? KvPrefix);

    internal sealed record JobAccepted(string JobId);

    internal sealed record JobList(IReadOnlyList<JobSummary> Items);

    internal sealed record JobSummary(string JobId, string Type, string State, DateTimeOffset SubmittedAt, DateTimeOffset? FinishedAt);

    internal sealed record JobView(
        string JobId, string Type, string State, DateTimeOffset? SubmittedAt, DateTimeOffset? FinishedAt, JobProgress Progress,
        IReadOnlyDictionary<string, long> Counters, string? Error, JobOutputBody? Output, string? Coordinator);

    internal sealed record JobProgress(TaskCount MapTasks, TaskCount ReduceTasks);

    internal sealed record TaskCount(int Total, int Completed);

    internal sealed record JobResultPage(IReadOnlyList<JobResultItem> Items, string? Next);

    internal sealed record JobResultItem(string Key, string Value);
}
