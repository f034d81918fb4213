#nullable enable
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace ActorGrid.Client;

/// <summary>MapReduce jobs (<see cref="JobsClient"/>).</summary>
public interface IJobsClient
{
    Task<string> SubmitAsync(JobRequest request, CancellationToken cancellationToken = default);

    Task<JobStatus> GetAsync(string jobId, CancellationToken cancellationToken = default);

    Task<JobResultPage> GetResultAsync(string jobId, string? after = null, int? limit = null, CancellationToken cancellationToken = default);

    IAsyncEnumerable<JobResultItem> ReadResultAsync(string jobId, int pageSize = 1000, CancellationToken cancellationToken = default);

    Task<JobStatus> CancelAsync(string jobId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<JobSummary>> ListAsync(int? limit = null, CancellationToken cancellationToken = default);

    Task<JobStatus> WaitAsync(string jobId, IProgress<JobStatus>? progress = null, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default);
}

/// <summary>MapReduce jobs: submit, follow, read results, cancel, list (SPEC §5).</summary>
public sealed class JobsClient(HttpClient http) : IJobsClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary><c>POST /jobs</c>: submits a job; returns its id once the job is durably accepted.</summary>
    public async Task<string> SubmitAsync(JobRequest request, CancellationToken cancellationToken = default)
    {
        using var response = await http.PostAsJsonAsync("jobs", request, Json, cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        var accepted = await response.Content.ReadFromJsonAsync<JobAccepted>(Json, cancellationToken);
        return accepted!.JobId;
    }

    /// <summary><c>GET /jobs/{id}</c>: state, progress and counters.</summary>
    public async Task<JobStatus> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("jobs/" + Uri.EscapeDataString(jobId), cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<JobStatus>(Json, cancellationToken))!;
    }

    /// <summary><c>GET /jobs/{id}/result</c>: one page of a completed job's output, sorted by key, after <paramref name="after"/>.</summary>
    public async Task<JobResultPage> GetResultAsync(string jobId, string? after = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (after is not null)
        {
            query.Add("after=" + Uri.EscapeDataString(after));
        }

        if (limit is not null)
        {
            query.Add("limit=" + limit.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var uri = $"jobs/{Uri.EscapeDataString(jobId)}/result" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        using var response = await http.GetAsync(uri, cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<JobResultPage>(Json, cancellationToken))!;
    }

    /// <summary>Every output pair of a completed job, page by page, in key order.</summary>
    public async IAsyncEnumerable<JobResultItem> ReadResultAsync(string jobId, int pageSize = 1000, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? after = null;
        do
        {
            var page = await GetResultAsync(jobId, after, pageSize, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            after = page.Next;
        }
        while (after is not null);
    }

    /// <summary><c>DELETE /jobs/{id}</c>: cancels a running job, deletes a finished one (with its result); returns its status.</summary>
    public async Task<JobStatus> CancelAsync(string jobId, CancellationToken cancellationToken = default)
    {
        using var response = await http.DeleteAsync("jobs/" + Uri.EscapeDataString(jobId), cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<JobStatus>(Json, cancellationToken))!;
    }

    /// <summary><c>GET /jobs</c>: the most recently submitted jobs, newest first.</summary>
    public async Task<IReadOnlyList<JobSummary>> ListAsync(int? limit = null, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(limit is null ? "jobs" : $"jobs?limit={limit.Value}", cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<JobList>(Json, cancellationToken))!.Items;
    }

    /// <summary>
    /// Polls the job every <paramref name="pollInterval"/> (default 250 ms) until it has finished, reporting each
    /// status to <paramref name="progress"/>; returns the final status (Completed, Failed or Cancelled).
    /// </summary>
    public async Task<JobStatus> WaitAsync(string jobId, IProgress<JobStatus>? progress = null, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var status = await GetAsync(jobId, cancellationToken);
            progress?.Report(status);
            if (status.IsFinished)
            {
                return status;
            }

            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    private sealed record JobAccepted(string JobId);

    private sealed record JobList(IReadOnlyList<JobSummary> Items);
}

/// <summary>A job to submit. Exactly one of the input's members is set.</summary>
/// <param name="Type">The job type: <c>wordcount</c>, <c>grep</c>, <c>count-by</c>, <c>sum-by</c>, <c>inverted-index</c>, or one registered by the cluster.</param>
/// <param name="Input">Where the job reads.</param>
/// <param name="Output">Where the output is also written in the KV store; null: only readable as the job result.</param>
/// <param name="Reducers">Number of reduce partitions; null: the server's default.</param>
/// <param name="Parameters">The job type's parameters (a JSON object), e.g. <c>{"field":"date"}</c>.</param>
/// <param name="JobId">An id of your choosing (resubmitting the same job under it is idempotent); null: the server picks one.</param>
public sealed record JobRequest(
    string Type,
    JobInput Input,
    JobOutput? Output = null,
    int? Reducers = null,
    JsonElement? Parameters = null,
    string? JobId = null);

/// <summary>A job's input: inline text (one record per line), every KV key with a prefix, or a topic.</summary>
public sealed record JobInput(string? Text = null, string? KvPrefix = null, string? Topic = null)
{
    /// <summary>Inline text.</summary>
    public static JobInput FromText(string text) => new(Text: text);

    /// <summary>Every live KV key starting with <paramref name="prefix"/>.</summary>
    public static JobInput FromKvPrefix(string prefix) => new(KvPrefix: prefix);

    /// <summary>Every message of <paramref name="topic"/> present when the job starts.</summary>
    public static JobInput FromTopic(string topic) => new(Topic: topic);
}

/// <summary>Where a job's output goes besides the job result.</summary>
public sealed record JobOutput(string? KvPrefix);

/// <summary>The answer of <c>GET /jobs/{id}</c>.</summary>
public sealed record JobStatus(
    string JobId,
    string Type,
    string State,
    DateTimeOffset? SubmittedAt,
    DateTimeOffset? FinishedAt,
    JobProgress Progress,
    IReadOnlyDictionary<string, long> Counters,
    string? Error,
    JobOutput? Output,
    string? Coordinator)
{
    /// <summary>Whether the job has completed, failed or been cancelled.</summary>
    public bool IsFinished => State is "Completed" or "Failed" or "Cancelled";

    /// <summary>A counter's value (0 when absent).</summary>
    public long Counter(string name) => Counters.TryGetValue(name, out var value) ? value : 0;
}

/// <summary>Map and reduce task progress.</summary>
public sealed record JobProgress(TaskProgress MapTasks, TaskProgress ReduceTasks);

/// <summary>Tasks of one phase.</summary>
public sealed record TaskProgress(int Total, int Completed);

/// <summary>One page of a job's result.</summary>
public sealed record JobResultPage(IReadOnlyList<JobResultItem> Items, string? Next);

/// <summary>One output pair.</summary>
public sealed record JobResultItem(string Key, string Value);

/// <summary>A job as <c>GET /jobs</c> lists it.</summary>
public sealed record JobSummary(string JobId, string Type, string State, DateTimeOffset SubmittedAt, DateTimeOffset? FinishedAt);
