#nullable enable
using System.Collections.Immutable;
using ActorGrid.Entities;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>The pure state of the job index: each job's latest summary, bounded to the newest jobs.</summary>
internal sealed record JobIndexState(ImmutableDictionary<string, JobSummary> Jobs)
{
    public static JobIndexState Empty { get; } = new(ImmutableDictionary<string, JobSummary>.Empty.WithComparers(StringComparer.Ordinal));

    /// <summary>The event recording <paramref name="job"/>, or none when the index already says the same.</summary>
    public IReadOnlyList<IActorGridMessage> Record(JobSummary job) =>
        Jobs.TryGetValue(job.JobId, out var known) && known == job ? [] : [new JobRecorded(job)];

    /// <summary>The newest <paramref name="limit"/> jobs, newest first.</summary>
    public JobSummary[] List(int limit) =>
        [.. Jobs.Values.OrderByDescending(j => j.SubmittedAt).ThenBy(j => j.JobId, StringComparer.Ordinal).Take(limit)];

    /// <summary>The event forgetting a deleted job, or none when it is not listed.</summary>
    public IReadOnlyList<IActorGridMessage> Forget(string jobId) => Jobs.ContainsKey(jobId) ? [new JobForgotten(jobId)] : [];

    /// <summary>Finished jobs whose retention has passed at <paramref name="now"/>: to be deleted.</summary>
    public IEnumerable<string> Expired(DateTimeOffset now, TimeSpan retention) =>
        Jobs.Values.Where(j => j.FinishedAt is { } finished && finished + retention <= now).Select(j => j.JobId);

    /// <summary>
    /// Jobs <paramref name="before"/> listed that this state does not, other than those <paramref name="events"/>
    /// (which led from there to here) recorded or forgot: forgotten beyond the most listed jobs, so to be deleted.
    /// </summary>
    public IEnumerable<string> TrimmedSince(JobIndexState before, IReadOnlyList<IActorGridMessage> events)
    {
        var named = events.Select(e => e switch
        {
            JobRecorded r => r.Job.JobId,
            JobForgotten f => f.JobId,
            _ => null,
        }).ToHashSet(StringComparer.Ordinal);
        return before.Jobs.Keys.Where(id => !Jobs.ContainsKey(id) && !named.Contains(id));
    }

    /// <summary>The snapshot DTO holding this state.</summary>
    public JobIndexSnapshot ToSnapshot() => new([.. Jobs.Values]);

    /// <summary>The state a snapshot holds.</summary>
    public static JobIndexState FromSnapshot(JobIndexSnapshot snapshot) =>
        Empty with { Jobs = snapshot.Jobs.ToImmutableDictionary(j => j.JobId, StringComparer.Ordinal) };

    public JobIndexState Apply(IActorGridMessage @event, int maxJobs) => @event switch
    {
        JobRecorded e => Trim(this with { Jobs = Jobs.SetItem(e.Job.JobId, e.Job) }, maxJobs),
        JobForgotten e => this with { Jobs = Jobs.Remove(e.JobId) },
        _ => throw new ArgumentException($"{@event.GetType().Name} is not a job index event", nameof(@event)),
    };

    private static JobIndexState Trim(JobIndexState state, int maxJobs)
    {
        if (state.Jobs.Count <= maxJobs)
        {
            return state;
        }

        // Forget the oldest finished jobs first; a running job stays listed.
        var drop = state.Jobs.Values
            .OrderBy(j => j.Status is JobStatus.Pending or JobStatus.Running ? 1 : 0)
            .ThenBy(j => j.SubmittedAt)
            .Take(state.Jobs.Count - maxJobs)
            .Select(j => j.JobId);
        return state with { Jobs = state.Jobs.RemoveRange(drop) };
    }
}

/// <summary>
/// The job index (one sharded entity): which jobs exist, for <c>GET /jobs</c>. Coordinators record their jobs in it,
/// through the grid's one write path (<see cref="DurableEntity{TState, TCommand, TEvent}"/>): records that arrive
/// while a write is in flight go into the next one, each acknowledged once durable. It also keeps retention:
/// finished jobs older than <c>MapReduce:JobRetention</c> are told to delete themselves (and then forgotten here),
/// checked while the index runs — it starts with the first coordinator that resumes.
/// </summary>
internal sealed class JobIndex : DurableEntity<JobIndexState, IActorGridMessage, IActorGridMessage>, IWithTimers
{
    private readonly MapReduceServices _services;

    // The committed state before the latest write, to see which jobs it trimmed.
    private JobIndexState _listed = JobIndexState.Empty;

    public JobIndex(string entityId, MapReduceServices? services)
        : base("mr-index-" + entityId, JobIndexState.Empty, new DurableEntitySettings
        {
            SnapshotEvery = (services ??= MapReduceServices.Of(Context.System)).Settings.SnapshotEvery,
        })
    {
        _services = services;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override string EntityKind => "mapreduce.index";

    public static Props Props(string entityId, MapReduceServices? services = null) =>
        Akka.Actor.Props.Create(() => new JobIndex(entityId, services));

    protected override void HandleCommand(object message)
    {
        switch (message)
        {
            case RecordJob or ForgetJob:
                Submit((IActorGridMessage)message, Sender);
                break;
            case FindJob find:
                Sender.Tell(new JobListReply(State.Jobs.TryGetValue(find.JobId, out var job) ? [job] : []));
                break;
            case ListJobs list:
                Sender.Tell(new JobListReply(State.List(list.Limit)));
                break;
            case ExpireJobs:
                foreach (var jobId in State.Expired(Time.GetUtcNow(), _services.Settings.JobRetention))
                {
                    Coordinators.Tell(new DeleteJob(jobId));
                }

                break;
            case StopEntity:
                StopWhenDrained();
                break;
            case DeleteJobResult or EntityUnavailable:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override Decision<JobIndexState, IActorGridMessage> Decide(JobIndexState state, IActorGridMessage command) => command switch
    {
        RecordJob record => new(state.Record(record.Job), _ => new JobIndexed(record.Job.JobId)),
        ForgetJob forget => new(state.Forget(forget.JobId), _ => null),
        _ => throw new ArgumentException($"{command.GetType().Name} is not a job index command", nameof(command)),
    };

    protected override JobIndexState Apply(JobIndexState state, IActorGridMessage @event) => state.Apply(@event, _services.Settings.MaxListedJobs);

    protected override object ErrorReply(IActorGridMessage command, EntityFailure failure, string detail) => new EntityUnavailable(IndexEntityId, detail);

    protected override object? ToSnapshot(JobIndexState state) => state.ToSnapshot();

    protected override JobIndexState FromSnapshot(object snapshot) => JobIndexState.FromSnapshot((JobIndexSnapshot)snapshot);

    protected override void OnRecoveryCompleted()
    {
        _listed = State;
        var every = TimeSpan.FromTicks(Math.Clamp(_services.Settings.JobRetention.Ticks / 4, TimeSpan.TicksPerSecond, 5 * TimeSpan.TicksPerMinute));
        Timers.StartPeriodicTimer(nameof(ExpireJobs), ExpireJobs.Instance, TimeSpan.Zero, every);
    }

    protected override void OnCommitted(IReadOnlyList<IActorGridMessage> events, long firstSequenceNr)
    {
        // The index is the list of jobs that exist: one it forgets beyond MaxListedJobs is deleted.
        foreach (var trimmed in State.TrimmedSince(_listed, events))
        {
            Coordinators.Tell(new DeleteJob(trimmed));
        }

        _listed = State;
    }

    private IActorRef Coordinators => ClusterSharding.Get(Context.System).ShardRegion(CoordinatorTypeName);

    private sealed class ExpireJobs
    {
        public static readonly ExpireJobs Instance = new();
    }
}
