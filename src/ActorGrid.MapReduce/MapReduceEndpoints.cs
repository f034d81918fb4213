#nullable enable
using System.Globalization;
using System.Text.Json;
using ActorGrid.Grid;
using ActorGrid.Http;
using ActorGrid.Security;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static ActorGrid.MapReduce.MapReduceProtocol;
using Settings = ActorGrid.MapReduce.MapReduceProtocol.Settings;

namespace ActorGrid.MapReduce;

/// <summary>The MapReduce part of the HTTP API (SPEC §5): submit, status, result pages, cancel, list.</summary>
internal static class MapReduceEndpoints
{
    public static IEndpointRouteBuilder MapMapReduceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/jobs", async (HttpContext http, ActorSystem system, MapReduceServices services, CancellationToken cancellationToken) =>
        {
            var request = http.Request;
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            JobSpec spec;
            string jobId;
            try
            {
                (spec, var requestedId) = JobRequests.Parse(body.RootElement, services.Jobs, services.Settings, services.KeyValue is not null, services.Topics is not null);
                jobId = requestedId ?? NewJobId();
                if (spec.Input.Topic is { } topic && await services.Topics!.GetPartitionCountAsync(topic, cancellationToken) is null)
                {
                    throw new JobRequestException(StatusCodes.Status400BadRequest, $"input.topic '{topic}' does not exist");
                }
            }
            catch (JobRequestException e)
            {
                return GridResults.Problem(e.Status, e.Status == StatusCodes.Status413PayloadTooLarge ? "Payload too large" : "Bad request", e.Message);
            }

            // A job runs with its submitter's scopes: refused before anything runs unless the token may read its
            // input and write its output (SPEC §11).
            if (DenyJob(http, jobId, spec) is { } denied)
            {
                return denied;
            }

            var submit = new SubmitJob(jobId, spec);
            if (spec.Input.Text is not null && TooLargeForOneMessage(system, submit) is { } tooLarge)
            {
                return GridResults.TooLarge(tooLarge);
            }

            var active = await CountActiveJobsAsync(system, services.Settings, cancellationToken);
            if (active >= services.Settings.MaxActiveJobs)
            {
                return GridResults.Unavailable($"{active} jobs are pending or running, the most allowed at once ({services.Settings.MaxActiveJobs}); retry when one has finished", 5);
            }

            return await Coordinators(system).AskAnyAsync(submit, services.Settings.AskTimeout, cancellationToken) switch
            {
                SubmitJobResult { Status: SubmitStatus.Accepted } => Results.Accepted($"/jobs/{jobId}", new { jobId }),
                SubmitJobResult reply => GridResults.Conflict(reply.Error ?? $"job '{jobId}' already exists"),
                EntityUnavailable unavailable => GridResults.Unavailable($"job '{jobId}' could not be accepted now ({unavailable.Reason}); retry"),
                var other => throw new InvalidOperationException($"Unexpected reply {other.GetType().Name} to a job submission"),
            };
        });

        // Lists the jobs the caller may read.
        endpoints.MapGet("/jobs", async (HttpContext http, ActorSystem system, MapReduceServices services, int? limit, CancellationToken cancellationToken) =>
        {
            if (limit is < 1 or > Settings.MaxResultLimit)
            {
                return GridResults.BadRequest($"limit must be from 1 to {Settings.MaxResultLimit}");
            }

            var list = await ClusterSharding.Get(system).ShardRegion(IndexTypeName)
                .Ask<JobListReply>(new ListJobs(IndexEntityId, limit ?? Settings.DefaultResultLimit), services.Settings.AskTimeout, cancellationToken);
            return Results.Ok(new
            {
                items = list.Jobs.Where(j => http.Caller().Can(GridAccess.Read, GridResource.Job, j.JobId))
                    .Select(j => new { j.JobId, j.Type, State = j.Status.ToString(), j.SubmittedAt, j.FinishedAt }),
            });
        });

        endpoints.MapGet("/jobs/{id}", async (string id, ActorSystem system, MapReduceServices services, CancellationToken cancellationToken) =>
        {
            if (!JobRequests.IsValidJobId(id) || !await IsListedAsync(system, id, services.Settings, cancellationToken))
            {
                return GridResults.NotFound($"no job '{id}'");
            }

            var status = await Coordinators(system).Ask<JobStatusReply>(new GetJobStatus(id), services.Settings.AskTimeout, cancellationToken);
            return status.Found ? Results.Ok(View(status)) : GridResults.NotFound($"no job '{id}'");
        }).RequireGridAccess(GridAccess.Read, GridResource.Job, "id");

        endpoints.MapGet("/jobs/{id}/result", async (
            string id, int? limit, string? after, ActorSystem system, MapReduceServices services, CancellationToken cancellationToken) =>
        {
            if (limit is < 1 or > Settings.MaxResultLimit)
            {
                return GridResults.BadRequest($"limit must be from 1 to {Settings.MaxResultLimit}");
            }

            if (!JobRequests.IsValidJobId(id) || !await IsListedAsync(system, id, services.Settings, cancellationToken))
            {
                return GridResults.NotFound($"no job '{id}'");
            }

            var status = await Coordinators(system).Ask<JobStatusReply>(new GetJobStatus(id), services.Settings.AskTimeout, cancellationToken);
            if (!status.Found)
            {
                return GridResults.NotFound($"no job '{id}'");
            }

            if (status.Status != JobStatus.Completed)
            {
                return GridResults.Conflict($"job '{id}' is {status.Status}; its result is readable once it has completed");
            }

            var (items, next) = await ReadResultPageAsync(system, id, status.ReduceTasks, after, limit ?? Settings.DefaultResultLimit, services.Settings.AskTimeout, cancellationToken);
            return items is null
                ? GridResults.Unavailable($"a reduce partition of job '{id}' is not ready; retry")
                : Results.Ok(new { items = items.Select(i => new { i.Key, i.Value }), next });
        }).RequireGridAccess(GridAccess.Read, GridResource.Job, "id");

        endpoints.MapDelete("/jobs/{id}", async (string id, ActorSystem system, MapReduceServices services, CancellationToken cancellationToken) =>
        {
            if (!JobRequests.IsValidJobId(id) || !await IsListedAsync(system, id, services.Settings, cancellationToken))
            {
                return GridResults.NotFound($"no job '{id}'");
            }

            // A running job is cancelled; a finished one is deleted (SPEC §15). Either way the answer is its status.
            var reply = await Coordinators(system).AskAnyAsync(new CancelJob(id), services.Settings.AskTimeout, cancellationToken);
            if (reply is EntityUnavailable unavailable)
            {
                return GridResults.Unavailable($"job '{id}' could not be cancelled now ({unavailable.Reason}); retry");
            }

            var result = (CancelJobResult)reply;
            if (result.Status != CancelStatus.AlreadyFinished)
            {
                return result.Status == CancelStatus.NotFound ? GridResults.NotFound($"no job '{id}'") : Results.Ok(View(result.Job));
            }

            var deleted = await Coordinators(system).Ask<DeleteJobResult>(new DeleteJob(id), services.Settings.AskTimeout, cancellationToken);
            return deleted.Status switch
            {
                DeleteStatus.Deleted => Results.Ok(View(deleted.Job)),
                DeleteStatus.NotFound => GridResults.NotFound($"no job '{id}'"),
                _ => GridResults.Unavailable($"job '{id}' could not be deleted now ({deleted.Status}); retry"),
            };
        }).RequireGridAccess(GridAccess.Write, GridResource.Job, "id");

        return endpoints;
    }

    private static IResult? DenyJob(HttpContext http, string jobId, JobSpec spec) =>
        http.Deny(GridAccess.Write, GridResource.Job, jobId)
        ?? (spec.Input.KvPrefix is { } input ? http.Deny(GridAccess.Read, GridResource.Kv, input) : null)
        ?? (spec.Input.Topic is { } topic ? http.Deny(GridAccess.Read, GridResource.Topic, topic) : null)
        ?? (spec.OutputKvPrefix is { } output ? http.Deny(GridAccess.Write, GridResource.Kv, output) : null);

    /// <summary>
    /// One page of a completed job's result: the page of every reduce partition, merged by key (keys are disjoint
    /// across partitions). Null items when a partition is not ready.
    /// </summary>
    internal static async Task<(ResultItem[]? Items, string? Next)> ReadResultPageAsync(
        ActorSystem system, string jobId, int reducers, string? after, int limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var region = ClusterSharding.Get(system).ShardRegion(ReducerTypeName);
        var pages = await Task.WhenAll(Enumerable.Range(0, reducers).Select(r =>
            region.Ask<ResultPageReply>(new GetResultPage($"{jobId}.{r}", after, limit), timeout, cancellationToken)));
        if (pages.Any(p => !p.Ready))
        {
            return (null, null);
        }

        return MergePages(pages, limit);
    }

    /// <summary>
    /// Merges one page from every reduce partition (keys are disjoint across partitions) into one page of the job's
    /// result: at most <paramref name="limit"/> items in key order and the key to continue after, or null at the end.
    /// </summary>
    internal static (ResultItem[] Items, string? Next) MergePages(IReadOnlyList<ResultPageReply> pages, int limit)
    {
        // A partition that has more stopped at its last key: beyond the smallest such key the page would not be
        // complete, since that partition's next keys are unknown.
        var bound = pages.Where(p => p.More && p.Items.Length > 0).Select(p => p.Items[^1].Key).Min(StringComparer.Ordinal);
        var all = pages.SelectMany(p => p.Items).ToList();
        var known = all.Where(i => bound is null || string.CompareOrdinal(i.Key, bound) <= 0).OrderBy(i => i.Key, StringComparer.Ordinal).ToList();
        var page = known.Take(limit).ToArray();
        var more = pages.Any(p => p.More) || page.Length < all.Count;
        return (page, more && page.Length > 0 ? page[^1].Key : null);
    }

    /// <summary>Why <paramref name="message"/> cannot travel in one remoting frame, or null when it can.</summary>
    private static string? TooLargeForOneMessage(ActorSystem system, object message)
    {
        var frame = system.Settings.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 128_000;
        var size = system.Serialization.FindSerializerFor(message).ToBinary(message).Length;
        return size + 16 * 1024 <= frame
            ? null
            : $"the job with its inline text is {size} bytes as a message; at most {frame - 16 * 1024} fit in one (store larger input in the KV store and use kvPrefix)";
    }

    /// <summary>Jobs pending or running, from the index (a soft cap: the index hears of a new job just after it starts).</summary>
    private static async Task<int> CountActiveJobsAsync(ActorSystem system, Settings settings, CancellationToken cancellationToken)
    {
        var list = await ClusterSharding.Get(system).ShardRegion(IndexTypeName)
            .Ask<JobListReply>(new ListJobs(IndexEntityId, settings.MaxListedJobs), settings.AskTimeout, cancellationToken);
        return list.Jobs.Count(j => j.Status is JobStatus.Pending or JobStatus.Running);
    }

    /// <summary>
    /// Whether the index lists <paramref name="jobId"/>: it lists every job that exists (a submission is accepted once
    /// it does), so an unknown id is a 404 without waking — and journaling — a remembered coordinator.
    /// </summary>
    private static async Task<bool> IsListedAsync(ActorSystem system, string jobId, Settings settings, CancellationToken cancellationToken)
    {
        var found = await ClusterSharding.Get(system).ShardRegion(IndexTypeName)
            .Ask<JobListReply>(new FindJob(IndexEntityId, jobId), settings.AskTimeout, cancellationToken);
        return found.Jobs.Length > 0;
    }

    private static IActorRef Coordinators(ActorSystem system) => ClusterSharding.Get(system).ShardRegion(CoordinatorTypeName);

    private static string NewJobId() =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}");

    private static object View(JobStatusReply status) => new
    {
        jobId = status.JobId,
        type = status.Type,
        state = status.Status.ToString(),
        submittedAt = status.SubmittedAt,
        finishedAt = status.FinishedAt,
        progress = new
        {
            mapTasks = new { total = status.MapTasks, completed = status.MapTasksCompleted },
            reduceTasks = new { total = status.ReduceTasks, completed = status.ReduceTasksCompleted },
        },
        counters = new SortedDictionary<string, long>(status.Counters, StringComparer.Ordinal),
        error = status.Error,
        output = status.OutputKvPrefix is null ? null : new { kvPrefix = status.OutputKvPrefix },
        coordinator = status.Coordinator,
    };
}
