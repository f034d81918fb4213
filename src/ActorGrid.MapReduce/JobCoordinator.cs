#nullable enable
using ActorGrid.Entities;
using ActorGrid.MapReduce.Inputs;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>
/// One job's coordinator (a remembered sharded entity, so it resumes on a survivor after its node dies). It journals
/// what <see cref="JobState"/> decides — plan, attempts started, accepted, failed, killed, reduce runs, completion —
/// through the grid's one write path (<see cref="DurableEntity{TState, TCommand, TEvent}"/>: what arrives while a
/// write is in flight is decided against the durable state and written together next), and performs the effects
/// once they are durable: map attempts go to the <see cref="MapReduceWorker"/> of the chosen node, losers are
/// aborted, reduce partitions are told to reduce until they complete. Tasks accepted before a takeover are never
/// run again; attempts that were running report to the new incarnation.
/// </summary>
internal sealed class JobCoordinator : DurableEntity<JobState, object, IActorGridMessage>, IWithTimers
{
    private const int MaxPlanningAttempts = 5;
    private const string TickTimer = "tick";
    private const string PlanTimer = "plan";

    private readonly MapReduceServices _services;
    private readonly MapReduceMetrics _metrics = MapReduceMetrics.For(Context.System);
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    // Attempts that computed their output and are delivering it (they hold no slot); not journaled.
    private readonly HashSet<(int Task, int Attempt)> _delivering = [];

    // New submissions in the write in flight: answered once the index lists the job.
    private readonly List<(IActorRef ReplyTo, SubmitJobResult Reply)> _awaitingIndex = [];
    private DateTimeOffset _liveSince;
    private DateTimeOffset _lastReducePing = DateTimeOffset.MinValue;
    private JobStatus _indexedStatus;
    private bool _planning;
    private int _planningFailures;
    private bool _scheduleQueued;
    private bool _passivating;

    // Submissions queued and not yet decided (an empty coordinator with one must not passivate).
    private int _undecidedSubmissions;

    // A deletion in flight: who waits for it (Nobody: retention) and the job's last status.
    private JobDeletion? _deleting;

    public JobCoordinator(string jobId, MapReduceServices? services)
        : base("mr-job-" + jobId, JobState.Empty(jobId), new DurableEntitySettings
        {
            SnapshotEvery = (services ??= MapReduceServices.Of(Context.System)).Settings.SnapshotEvery,
        })
    {
        _services = services;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override string EntityKind => "mapreduce.job";

    public static Props Props(string jobId, MapReduceServices? services = null) =>
        Akka.Actor.Props.Create(() => new JobCoordinator(jobId, services));

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        base.PostStop();
    }

    private DateTimeOffset Now => Time.GetUtcNow();

    private IActorRef Reducers => ClusterSharding.Get(Context.System).ShardRegion(ReducerTypeName);

    private IActorRef Index => ClusterSharding.Get(Context.System).ShardRegion(IndexTypeName);

    protected override void HandleCommand(object message)
    {
        switch (message)
        {
            case SubmitJob when _deleting is not null:
                Sender.Tell(new SubmitJobResult(SubmitStatus.Conflict, $"job '{State.JobId}' is being deleted; submit it again in a moment"));
                break;
            case SubmitJob submit:
                _undecidedSubmissions++;
                Submit(new Accept(submit.Spec, Sender), Sender);
                break;
            case GetJobStatus:
                Sender.Tell(DeleteIfExpired() ? StatusReply(JobState.Empty(State.JobId)) : StatusReply(State));
                StopIfEmpty();
                break;
            case DeleteJob:
                if (!State.IsFinished || _deleting is not null)
                {
                    var status = State.Phase == JobPhase.None || _deleting is not null ? DeleteStatus.NotFound : DeleteStatus.NotFinished;
                    Sender.Tell(new DeleteJobResult(status, _deleting?.Last ?? StatusReply(State)));
                    StopIfEmpty();
                }
                else
                {
                    Delete(Sender);
                }

                break;
            case CancelJob:
                if (DeleteIfExpired())
                {
                    Sender.Tell(new CancelJobResult(CancelStatus.NotFound, StatusReply(JobState.Empty(State.JobId))));
                    break;
                }

                Submit(message, Sender);
                StopIfEmpty();
                break;
            case MapTaskSucceeded or MapTaskFailed:
                Submit(message, Sender);
                Schedule();
                break;
            case MapTaskComputed computed:
                if (State.Phase == JobPhase.Mapping && computed.Task >= 0 && computed.Task < State.MapTasks.Count
                    && State.MapTasks[computed.Task].Accepted is null && _delivering.Add((computed.Task, computed.Attempt)))
                {
                    Schedule();
                }

                break;
            case ReduceTaskReply:
                Submit(message, ActorRefs.Nobody);
                break;
            case Planned:
                _planning = false;
                Submit(message, ActorRefs.Nobody);
                Schedule();
                break;
            case PlanningFailed failed:
                _planning = false;
                _planningFailures++;
                Log.Warning("Planning job {JobId} failed ({Failures}/{MaxAttempts}): {Error}", State.JobId, _planningFailures, MaxPlanningAttempts, failed.Error);
                if (_planningFailures >= MaxPlanningAttempts)
                {
                    Submit(failed, ActorRefs.Nobody);
                }
                else
                {
                    Timers.StartSingleTimer(PlanTimer, Replan.Instance, JobState.Backoff(_planningFailures, _services.Settings));
                }

                break;
            case Replan:
                Plan();
                break;
            case Tick or ClusterEvent.IClusterDomainEvent or ClusterEvent.CurrentClusterState:
                Schedule();
                break;
            case ReceiveTimeout:
                if (State.IsFinished)
                {
                    PassivateSelf();
                }

                break;
            case StopEntity:
                StopWhenDrained();
                break;
            case JobIndexed or EntityUnavailable:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override Decision<JobState, IActorGridMessage> Decide(JobState state, object command)
    {
        switch (command)
        {
            case Accept accept:
                _undecidedSubmissions--;
                accept.Decided = true;
                var (answer, submitted) = state.Submit(accept.Spec, Now);
                if (submitted.Count == 0)
                {
                    return Decision<JobState, IActorGridMessage>.Respond(answer);
                }

                // Accepted once the index lists the job too: the HTTP edge answers reads of jobs the index does not
                // list with 404, without waking a coordinator.
                _awaitingIndex.Add((accept.ReplyTo, answer));
                return new(submitted, _ => null);
            case CancelJob:
                var (status, cancelled) = state.Cancel(Now);
                return new(cancelled, s => new CancelJobResult(status, StatusReply(s)));
            case MapTaskSucceeded report:
                return new(state.MapSucceeded(report, Now), s => Ack(s, report.Task, report.Attempt));
            case MapTaskFailed report:
                return new(state.MapFailed(report, _services.Settings, Now), s => Ack(s, report.Task, report.Attempt));
            case ReduceTaskReply reply:
                return new(state.ReduceReplied(reply, _services.Settings, Now), _ => null);
            case Planned planned:
                return new(state.Planned(planned.Tasks, Now), _ => null);
            case PlanningFailed failed:
                return new(state.PlanningFailed(failed.Error, Now), _ => null);
            case ScheduleNow:
                _scheduleQueued = false;
                if (state.Phase != JobPhase.Mapping)
                {
                    return Decision<JobState, IActorGridMessage>.Respond(null);
                }

                _delivering.RemoveWhere(d => state.MapTasks[d.Task].Attempts.ElementAtOrDefault(d.Attempt - 1)?.Status != AttemptStatus.Running);
                return new(state.Schedule(Now, View(), _services.Settings, _liveSince, _delivering), _ => null);
            default:
                throw new ArgumentException($"{command.GetType().Name} is not a job coordinator command", nameof(command));
        }
    }

    protected override JobState Apply(JobState state, IActorGridMessage @event) => state.Apply(@event);

    protected override object ErrorReply(object command, EntityFailure failure, string detail)
    {
        switch (command)
        {
            case Accept { Decided: false }:
                _undecidedSubmissions--;
                break;
            case ScheduleNow:
                // Refused before it was decided (the node no longer owns the job): the next report or tick asks again.
                _scheduleQueued = false;
                break;
        }

        return new EntityUnavailable(State.JobId, detail);
    }

    protected override object? ToSnapshot(JobState state) => state.ToSnapshot();

    protected override JobState FromSnapshot(object snapshot) => JobState.FromSnapshot((JobSnapshot)snapshot);

    protected override void OnRecoveryCompleted()
    {
        _liveSince = Now;
        _indexedStatus = State.Status;
        if (State.Phase == JobPhase.None || DeleteIfExpired())
        {
            return;
        }

        Start();
        if (State.IsActive)
        {
            Log.Info("Job {JobId} resumed in phase {Phase} with {Accepted}/{MapTasks} map tasks accepted", State.JobId, State.Phase, State.MapTasksCompleted, State.MapTasks.Count);
        }
    }

    /// <summary>The effects of journaled events.</summary>
    protected override void OnCommitted(IReadOnlyList<IActorGridMessage> events, long firstSequenceNr)
    {
        var state = State;
        foreach (var e in events)
        {
            switch (e)
            {
                case JobSubmitted submitted:
                    _metrics.JobSubmitted(submitted.Spec.Type);
                    break;
                case MapAttemptStarted started:
                    _metrics.MapAttemptStarted(started.Attempt, started.Speculative);
                    Worker(started.Node).Tell(RunMapTaskFor(state, started.Task, started.Attempt));
                    break;
                case ReduceTaskCompleted:
                    _metrics.ReduceTaskCompleted();
                    break;
                case MapAttemptKilled killed:
                    Worker(state.MapTasks[killed.Task].Attempts[killed.Attempt - 1].Node)
                        .Tell(new AbortMapAttempt(state.JobId, killed.Task, killed.Attempt));
                    break;
                case MapAttemptFailed failed:
                    _metrics.MapAttemptFailed(failed.Outcome.ToString());
                    Log.Warning("Job {JobId} map task {Task} attempt {Attempt} {Outcome}: {Reason}", state.JobId, failed.Task, failed.Attempt, failed.Outcome, failed.Reason);
                    break;
                case ReducePhaseStarted:
                    PingReducers(state);
                    break;
                case JobCompleted or JobFailed or JobCancelled:
                    _metrics.JobFinished(state.Spec?.Type ?? "unknown", e.GetType().Name.Replace("Job", "", StringComparison.Ordinal).ToLowerInvariant());
                    Finish(state, e);
                    break;
            }
        }

        if (_indexedStatus != state.Status)
        {
            RecordInIndex();
        }

        if (events.Any(e => e is JobSubmitted))
        {
            Start();
        }

        foreach (var (replyTo, reply) in _awaitingIndex)
        {
            Index.Ask<JobIndexed>(Summary(), _services.Settings.AskTimeout)
                .ContinueWith(_ => (object)reply, TaskScheduler.Default)
                .PipeTo(replyTo);
        }

        _awaitingIndex.Clear();
    }

    protected override void OnWriteRejected(Exception cause)
    {
        // Its submissions were answered with errors.
        _awaitingIndex.Clear();
    }

    protected override void OnPurged()
    {
        Log.Info("Job {JobId} deleted", State.JobId);
        _deleting!.ReplyTo.Tell(new DeleteJobResult(DeleteStatus.Deleted, _deleting.Last));
        State = JobState.Empty(State.JobId);
        PassivateSelf();
    }

    protected override void OnPurgeFailed(object failure)
    {
        Log.Warning("Deleting job {JobId} failed: {Failure}", State.JobId, failure);
        _deleting!.ReplyTo.Tell(new DeleteJobResult(DeleteStatus.Failed, _deleting.Last));
        _deleting = null;
        Context.SetReceiveTimeout(_services.Settings.FinishedJobIdleAfter);
    }

    private void Start()
    {
        RecordInIndex();
        if (State.IsFinished)
        {
            Context.SetReceiveTimeout(_services.Settings.FinishedJobIdleAfter);
            return;
        }

        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer(TickTimer, Tick.Instance, _services.Settings.Tick);
        Plan();
        Schedule();
    }

    private void Plan()
    {
        if (State.Phase != JobPhase.Planning || _planning)
        {
            return;
        }

        _planning = true;
        var spec = State.Spec!;
        try
        {
            JobInputs.For(spec.Input, _services).PlanAsync(spec, CancellationToken.None)
                .PipeTo(Self, success: tasks => new Planned(tasks), failure: e => new PlanningFailed(e.GetBaseException().Message));
        }
        catch (InvalidOperationException e)
        {
            Self.Tell(new PlanningFailed(e.Message));
        }
    }

    /// <summary>Decides, with the next write, what the clock and the cluster call for (once however often it is asked meanwhile).</summary>
    private void Schedule()
    {
        if (State.Phase == JobPhase.Mapping)
        {
            if (!_scheduleQueued)
            {
                _scheduleQueued = true;
                Submit(ScheduleNow.Instance, ActorRefs.Nobody);
            }
        }
        else if (State.Phase == JobPhase.Reducing && Now - _lastReducePing >= _services.Settings.ReducePingInterval)
        {
            PingReducers(State);
        }
    }

    private ClusterView View()
    {
        var state = _cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var present = state.Members
            .Where(m => m.HasRole(RoleName) && m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving)
            .ToList();
        return new ClusterView(
            present.Where(m => m.Status == MemberStatus.Up && !unreachable.Contains(m.Address)).Select(m => m.Address.ToString()).ToList(),
            present.Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal));
    }

    private void Finish(JobState state, IActorGridMessage how)
    {
        Timers.Cancel(TickTimer);
        _cluster.Unsubscribe(Self);
        Context.SetReceiveTimeout(_services.Settings.FinishedJobIdleAfter);
        if (how is JobFailed or JobCancelled)
        {
            foreach (var member in _cluster.State.Members.Where(m => m.HasRole(RoleName)))
            {
                Worker(member.Address.ToString()).Tell(new AbortJob(state.JobId));
            }

            for (var r = 0; r < state.Spec!.Reducers; r++)
            {
                Reducers.Tell(new DiscardReduceData($"{state.JobId}.{r}"));
            }
        }

        if (how is JobFailed failed)
        {
            Log.Warning("Job {JobId} failed: {Error}", state.JobId, failed.Error);
        }
    }

    private void PingReducers(JobState state)
    {
        _lastReducePing = Now;
        var spec = state.Spec!;
        for (var r = 0; r < state.ReduceTasks.Count; r++)
        {
            if (state.ReduceTasks[r].Completed)
            {
                continue;
            }

            var reducer = r;
            var accepted = state.MapTasks
                .Select((t, task) => new AcceptedMapOutput(task, t.Accepted!.Value, t.AcceptedChunks[reducer]))
                .Where(a => a.Chunks > 0)
                .ToArray();
            Reducers.Tell(new RunReduce($"{state.JobId}.{r}", state.JobId, r, spec.Type, spec.Parameters, spec.OutputKvPrefix, accepted));
        }
    }

    private static RunMapTask RunMapTaskFor(JobState state, int task, int attempt)
    {
        var spec = state.Spec!;
        var split = state.MapTasks[task].Plan.Split;
        var text = split is TextSplit t ? spec.Input.Text!.Substring(t.Start, t.Length) : null;
        return new RunMapTask(state.JobId, task, attempt, spec.Type, spec.Parameters, spec.Input.WithoutText(), split, text, spec.Reducers);
    }

    private ActorSelection Worker(string node) =>
        Context.ActorSelection(new RootActorPath(Address.Parse(node)) / "user" / WorkerActorName);

    private void RecordInIndex()
    {
        _indexedStatus = State.Status;
        if (State.Phase != JobPhase.None)
        {
            Index.Tell(Summary());
        }
    }

    private RecordJob Summary() =>
        new(IndexEntityId, new JobSummary(State.JobId, State.Spec!.Type, State.Status, State.SubmittedAt!.Value, State.FinishedAt));

    /// <summary>Stops, once what is queued is answered, a coordinator that holds no job.</summary>
    private void StopIfEmpty()
    {
        // A query for an id that was never submitted must not leave a remembered entity behind.
        if (State.Phase == JobPhase.None && _undecidedSubmissions == 0 && !IsWritingOrSnapshotting)
        {
            PassivateSelf();
        }
    }

    private void PassivateSelf()
    {
        if (!_passivating)
        {
            _passivating = true;
            Context.Parent.Tell(new Passivate(StopEntity.Instance));
        }
    }

    /// <summary>Deletes the job when it finished longer than the retention ago; whether it did (or is deleting).</summary>
    private bool DeleteIfExpired()
    {
        if (_deleting is not null)
        {
            return true;
        }

        if (State.FinishedAt is not { } finished || finished + _services.Settings.JobRetention > Now)
        {
            return false;
        }

        Delete(ActorRefs.Nobody);
        return true;
    }

    /// <summary>
    /// Deletes a finished job: its reduce partitions' data, its index entry, then its own journal and snapshots once
    /// no snapshot is in flight (one landing after the deletion would bring the job back); the reply waits for the
    /// journal. Sharding forgets the entity when it passivates after; addressed again, it recovers nothing and
    /// answers as an unknown job.
    /// </summary>
    private void Delete(IActorRef replyTo)
    {
        _deleting = new JobDeletion(replyTo, StatusReply(State));
        Timers.CancelAll();
        Context.SetReceiveTimeout(null);
        for (var r = 0; r < (State.Spec?.Reducers ?? 0); r++)
        {
            Reducers.Tell(new DeleteReduceData($"{State.JobId}.{r}"));
        }

        Index.Tell(new ForgetJob(IndexEntityId, State.JobId));
        PurgeAllData();
    }

    private static TaskReportAcknowledged Ack(JobState state, int task, int attempt) => new(state.JobId, task, attempt, state.IsActive);

    private JobStatusReply StatusReply(JobState state) =>
        new(
            state.JobId,
            state.Phase != JobPhase.None,
            state.Spec?.Type ?? "",
            state.Status,
            state.SubmittedAt,
            state.FinishedAt,
            state.MapTasks.Count,
            state.MapTasksCompleted,
            state.ReduceTasks.Count,
            state.ReduceTasksCompleted,
            state.Counters,
            state.Error,
            state.Spec?.OutputKvPrefix,
            _cluster.SelfAddress.ToString());

    /// <summary>A submission as queued: decided against the durable state; answered by the base, or once the index lists a new job.</summary>
    private sealed record Accept(JobSpec Spec, IActorRef ReplyTo)
    {
        public bool Decided { get; set; }
    }

    /// <summary>A deletion under way: who asked, and the job's last status to answer with.</summary>
    private sealed record JobDeletion(IActorRef ReplyTo, JobStatusReply Last);

    private sealed record Planned(IReadOnlyList<MapTaskPlan> Tasks);

    private sealed record PlanningFailed(string Error);

    private sealed class Replan
    {
        public static readonly Replan Instance = new();
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed class ScheduleNow
    {
        public static readonly ScheduleNow Instance = new();
    }
}
