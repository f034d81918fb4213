#nullable enable
using System.Collections.Immutable;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
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
/// The job index (one sharded entity): which jobs exist, for <c>GET /jobs</c>. Coordinators record their jobs in it.
/// It also keeps retention: finished jobs older than <c>MapReduce:JobRetention</c> are told to delete themselves
/// (and then forgotten here), checked while the index runs — it starts with the first coordinator that resumes.
/// </summary>
internal sealed class JobIndex : GroupCommitActor, IWithTimers
{
    private readonly MapReduceServices _services;
    private JobIndexState _state = JobIndexState.Empty;

    public JobIndex(string entityId, MapReduceServices? services)
    {
        _services = services ?? MapReduceServices.Of(Context.System);
        PersistenceId = "mr-index-" + entityId;
        Recover<SnapshotOffer>(offer =>
        {
            _state = JobIndexState.Empty with
            {
                Jobs = ((JobIndexSnapshot)offer.Snapshot).Jobs.ToImmutableDictionary(j => j.JobId, StringComparer.Ordinal),
            };
            SnapshotRecovered(offer.Metadata.SequenceNr);
        });
        Recover<IActorGridMessage>(e => _state = _state.Apply(e, _services.Settings.MaxListedJobs));
        Command<RecordJob>(record =>
        {
            var sender = Sender;
            var before = _state;
            var events = _state.Record(record.Job);
            foreach (var e in events)
            {
                _state = _state.Apply(e, _services.Settings.MaxListedJobs);
            }

            Commit(events, () => sender.Tell(new JobIndexed(record.Job.JobId)));

            // The index is the list of jobs that exist: one it forgets beyond MaxListedJobs is deleted.
            foreach (var trimmed in before.Jobs.Keys.Where(id => !_state.Jobs.ContainsKey(id) && id != record.Job.JobId))
            {
                ClusterSharding.Get(Context.System).ShardRegion(CoordinatorTypeName).Tell(new DeleteJob(trimmed));
            }
        });
        Command<FindJob>(find => Sender.Tell(new JobListReply(_state.Jobs.TryGetValue(find.JobId, out var job) ? [job] : [])));
        Command<ForgetJob>(forget =>
        {
            var events = _state.Forget(forget.JobId);
            foreach (var e in events)
            {
                _state = _state.Apply(e, _services.Settings.MaxListedJobs);
            }

            Commit(events);
        });
        Command<ListJobs>(list => Sender.Tell(new JobListReply(_state.List(list.Limit))));
        Command<ExpireJobs>(_ =>
        {
            foreach (var jobId in _state.Expired(DateTimeOffset.UtcNow, _services.Settings.JobRetention))
            {
                ClusterSharding.Get(Context.System).ShardRegion(CoordinatorTypeName).Tell(new DeleteJob(jobId));
            }
        });
        Command<DeleteJobResult>(_ => { });
        Recover<RecoveryCompleted>(_ =>
        {
            var every = TimeSpan.FromTicks(Math.Clamp(_services.Settings.JobRetention.Ticks / 4, TimeSpan.TicksPerSecond, 5 * TimeSpan.TicksPerMinute));
            Timers.StartPeriodicTimer(nameof(ExpireJobs), ExpireJobs.Instance, TimeSpan.Zero, every);
        });
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(_ => { });
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override string EntityKind => "mapreduce.index";

    protected override int SnapshotEvery => _services.Settings.SnapshotEvery;

    public static Props Props(string entityId, MapReduceServices? services = null) =>
        Akka.Actor.Props.Create(() => new JobIndex(entityId, services));

    protected override object SnapshotState() => new JobIndexSnapshot([.. _state.Jobs.Values]);

    private sealed class ExpireJobs
    {
        public static readonly ExpireJobs Instance = new();
    }
}
