#nullable enable
using ActorGrid.MapReduce.Inputs;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>
/// One job's coordinator (a remembered sharded entity, so it resumes on a survivor after its node dies). It journals
/// what <see cref="JobState"/> decides — plan, attempts started, accepted, failed, killed, reduce runs, completion —
/// and performs the effects: map attempts go to the <see cref="MapReduceWorker"/> of the chosen node, losers are
/// aborted, reduce partitions are told to reduce until they complete. Tasks accepted before a takeover are never
/// run again; attempts that were running report to the new incarnation.
/// </summary>
internal sealed class JobCoordinator : GroupCommitActor, IWithTimers
{
    private const int MaxPlanningAttempts = 5;
    private const string TickTimer = "tick";
    private const string PlanTimer = "plan";

    private readonly MapReduceServices _services;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MapReduceMetrics _metrics = MapReduceMetrics.For(Context.System);
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    // Attempts that computed their output and are delivering it (they hold no slot); not journaled.
    private readonly HashSet<(int Task, int Attempt)> _delivering = [];

    // What decisions see: the journal plus the events decided but not yet written (group commit).
    private JobState _state;

    // What effects and answers see: only what the journal holds.
    private JobState _durable;
    private DateTimeOffset _liveSince = DateTimeOffset.UtcNow;
    private DateTimeOffset _lastReducePing = DateTimeOffset.MinValue;
    private bool _planning;
    private int _planningFailures;

    // A deletion in flight: who waits for it (Nobody: retention) and the job's last status.
    private (IActorRef ReplyTo, JobStatusReply Last)? _deleting;

    public JobCoordinator(string jobId, MapReduceServices? services)
    {
        _services = services ?? MapReduceServices.Of(Context.System);
        _state = JobState.Empty(jobId);
        _durable = _state;
        PersistenceId = "mr-job-" + jobId;

        Recover<SnapshotOffer>(offer =>
        {
            _state = _durable = (JobState)offer.Snapshot;
            SnapshotRecovered(offer.Metadata.SequenceNr);
        });
        Recover<IActorGridMessage>(e => _state = _durable = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => Resume());

        Command<SubmitJob>(submit =>
        {
            var sender = Sender;
            if (_deleting is not null)
            {
                sender.Tell(new SubmitJobResult(SubmitStatus.Conflict, $"job '{_state.JobId}' is being deleted; submit it again in a moment"));
                return;
            }

            var (reply, events) = _state.Submit(submit.Spec, Now);
            Decide(events, () =>
            {
                if (events.Count == 0)
                {
                    sender.Tell(reply);
                    return;
                }

                Start();

                // Accepted once the index lists the job too: the HTTP edge answers reads of jobs the index does not
                // list with 404, without waking a coordinator.
                Index.Ask<JobIndexed>(Summary(), _services.Settings.AskTimeout)
                    .ContinueWith(_ => (object)reply, TaskScheduler.Default)
                    .PipeTo(sender);
            });
        });
        Command<GetJobStatus>(_ =>
        {
            var sender = Sender;
            Commit([], () =>
            {
                if (DeleteIfExpired())
                {
                    sender.Tell(StatusReply(JobState.Empty(_state.JobId)));
                    return;
                }

                sender.Tell(StatusReply());
                StopIfEmpty();
            });
        });
        Command<DeleteJob>(_ =>
        {
            var sender = Sender;
            Commit([], () =>
            {
                if (!_durable.IsFinished || _deleting is not null)
                {
                    var status = _durable.Phase == JobPhase.None || _deleting is not null ? DeleteStatus.NotFound : DeleteStatus.NotFinished;
                    sender.Tell(new DeleteJobResult(status, _deleting?.Last ?? StatusReply()));
                    StopIfEmpty();
                    return;
                }

                Delete(sender);
            });
        });
        Command<DeleteMessagesSuccess>(_ =>
        {
            if (_deleting is { } deleting)
            {
                _log.Info("Job {JobId} deleted", _state.JobId);
                deleting.ReplyTo.Tell(new DeleteJobResult(DeleteStatus.Deleted, deleting.Last));
                _state = _durable = JobState.Empty(_state.JobId);
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            }
        });
        Command<DeleteMessagesFailure>(failed =>
        {
            if (_deleting is { } deleting)
            {
                _log.Warning(failed.Cause, "Deleting job {JobId} failed", _state.JobId);
                _deleting = null;
                deleting.ReplyTo.Tell(new DeleteJobResult(DeleteStatus.Failed, deleting.Last));
            }
        });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failed => _log.Warning(failed.Cause, "Deleting the snapshots of job {JobId} failed", _state.JobId));
        Command<CancelJob>(_ =>
        {
            var sender = Sender;
            if (DeleteIfExpired())
            {
                sender.Tell(new CancelJobResult(CancelStatus.NotFound, StatusReply(JobState.Empty(_state.JobId))));
                return;
            }

            var (status, events) = _state.Cancel(Now);
            Decide(events, () =>
            {
                sender.Tell(new CancelJobResult(status, StatusReply()));
                StopIfEmpty();
            });
        });
        Command<MapTaskSucceeded>(report =>
        {
            var sender = Sender;
            Decide(_state.MapSucceeded(report, Now), () => sender.Tell(Ack(report.Task, report.Attempt)));
            Schedule();
        });
        Command<MapTaskComputed>(computed =>
        {
            if (_state.Phase == JobPhase.Mapping && computed.Task >= 0 && computed.Task < _state.MapTasks.Count
                && _state.MapTasks[computed.Task].Accepted is null && _delivering.Add((computed.Task, computed.Attempt)))
            {
                Schedule();
            }
        });
        Command<MapTaskFailed>(report =>
        {
            var sender = Sender;
            Decide(_state.MapFailed(report, _services.Settings, Now), () => sender.Tell(Ack(report.Task, report.Attempt)));
            Schedule();
        });
        Command<ReduceTaskReply>(reply => Decide(_state.ReduceReplied(reply, _services.Settings, Now)));
        Command<Planned>(planned =>
        {
            _planning = false;
            Decide(_state.Planned(planned.Tasks, Now));
            Schedule();
        });
        Command<PlanningFailed>(failed =>
        {
            _planning = false;
            _planningFailures++;
            _log.Warning("Planning job {JobId} failed ({Failures}/{MaxAttempts}): {Error}", _state.JobId, _planningFailures, MaxPlanningAttempts, failed.Error);
            if (_planningFailures >= MaxPlanningAttempts)
            {
                Decide(_state.PlanningFailed(failed.Error, Now));
            }
            else
            {
                Timers.StartSingleTimer(PlanTimer, Replan.Instance, JobState.Backoff(_planningFailures, _services.Settings));
            }
        });
        Command<Replan>(_ => Plan());
        Command<Tick>(_ => Schedule());
        Command<ClusterEvent.IClusterDomainEvent>(_ => Schedule());
        Command<ClusterEvent.CurrentClusterState>(_ => Schedule());
        Command<ReceiveTimeout>(_ =>
        {
            if (_state.IsFinished)
            {
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            }
        });
        Command<JobIndexed>(_ => { });
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(failed => _log.Warning("Job {JobId} snapshot failed: {Error}", _state.JobId, failed.Cause.Message));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override string EntityKind => "mapreduce.job";

    protected override int SnapshotEvery => _services.Settings.SnapshotEvery;

    public static Props Props(string jobId, MapReduceServices? services = null) =>
        Akka.Actor.Props.Create(() => new JobCoordinator(jobId, services));

    protected override object SnapshotState() => _durable;

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        base.PostStop();
    }

    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    private IActorRef Reducers => ClusterSharding.Get(Context.System).ShardRegion(ReducerTypeName);

    private IActorRef Index => ClusterSharding.Get(Context.System).ShardRegion(IndexTypeName);

    private void Resume()
    {
        _liveSince = Now;
        if (_state.Phase == JobPhase.None || DeleteIfExpired())
        {
            return;
        }

        Start();
        if (_state.IsActive)
        {
            _log.Info("Job {JobId} resumed in phase {Phase} with {Accepted}/{MapTasks} map tasks accepted", _state.JobId, _state.Phase, _state.MapTasksCompleted, _state.MapTasks.Count);
        }
    }

    private void Start()
    {
        RecordInIndex();
        if (_state.IsFinished)
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
        if (_state.Phase != JobPhase.Planning || _planning)
        {
            return;
        }

        _planning = true;
        var spec = _state.Spec!;
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

    private void Schedule()
    {
        if (_state.Phase == JobPhase.Mapping)
        {
            _delivering.RemoveWhere(d => _state.MapTasks[d.Task].Attempts.ElementAtOrDefault(d.Attempt - 1)?.Status != AttemptStatus.Running);
            Decide(_state.Schedule(Now, View(), _services.Settings, _liveSince, _delivering));
        }
        else if (_durable.Phase == JobPhase.Reducing && Now - _lastReducePing >= _services.Settings.ReducePingInterval)
        {
            PingReducers(_durable);
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

    private void Decide(IReadOnlyList<IActorGridMessage> events, Action? after = null)
    {
        if (events.Count == 0)
        {
            Commit(events, after);
            return;
        }

        var before = _state;
        foreach (var e in events)
        {
            _state = _state.Apply(e);
        }

        var state = _state;
        Commit(events, () =>
        {
            _durable = state;
            Perform(before, state, events);
            after?.Invoke();
        });
    }

    /// <summary>The effects of journaled events.</summary>
    private void Perform(JobState before, JobState after, IReadOnlyList<IActorGridMessage> events)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case JobSubmitted submitted:
                    _metrics.JobSubmitted(submitted.Spec.Type);
                    break;
                case MapAttemptStarted started:
                    _metrics.MapAttemptStarted(started.Attempt, started.Speculative);
                    Worker(started.Node).Tell(RunMapTaskFor(after, started.Task, started.Attempt));
                    break;
                case ReduceTaskCompleted:
                    _metrics.ReduceTaskCompleted();
                    break;
                case MapAttemptKilled killed:
                    Worker(after.MapTasks[killed.Task].Attempts[killed.Attempt - 1].Node)
                        .Tell(new AbortMapAttempt(after.JobId, killed.Task, killed.Attempt));
                    break;
                case MapAttemptFailed failed:
                    _metrics.MapAttemptFailed(failed.Outcome.ToString());
                    _log.Warning("Job {JobId} map task {Task} attempt {Attempt} {Outcome}: {Reason}", after.JobId, failed.Task, failed.Attempt, failed.Outcome, failed.Reason);
                    break;
                case ReducePhaseStarted:
                    PingReducers(after);
                    break;
                case JobCompleted or JobFailed or JobCancelled:
                    _metrics.JobFinished(after.Spec?.Type ?? "unknown", e.GetType().Name.Replace("Job", "", StringComparison.Ordinal).ToLowerInvariant());
                    Finish(after, e);
                    break;
            }
        }

        if (before.Status != after.Status)
        {
            RecordInIndex();
        }
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
            _log.Warning("Job {JobId} failed: {Error}", state.JobId, failed.Error);
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
        if (_durable.Phase != JobPhase.None)
        {
            Index.Tell(Summary());
        }
    }

    private RecordJob Summary() =>
        new(IndexEntityId, new JobSummary(_durable.JobId, _durable.Spec!.Type, _durable.Status, _durable.SubmittedAt!.Value, _durable.FinishedAt));

    private void StopIfEmpty()
    {
        // A query for an id that was never submitted must not leave a remembered entity behind.
        if (_state.Phase == JobPhase.None && _durable.Phase == JobPhase.None)
        {
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        }
    }

    /// <summary>Deletes the job when it finished longer than the retention ago; whether it did (or is deleting).</summary>
    private bool DeleteIfExpired()
    {
        if (_deleting is not null)
        {
            return true;
        }

        if (_durable.FinishedAt is not { } finished || finished + _services.Settings.JobRetention > Now)
        {
            return false;
        }

        Delete(ActorRefs.Nobody);
        return true;
    }

    /// <summary>
    /// Deletes a finished job: its reduce partitions' data, its index entry, then its own journal and snapshots (the
    /// reply waits for the journal). Sharding forgets the entity when it passivates after; addressed again, it
    /// recovers nothing and answers as an unknown job.
    /// </summary>
    private void Delete(IActorRef replyTo)
    {
        _deleting = (replyTo, StatusReply());
        Timers.CancelAll();
        Context.SetReceiveTimeout(null);
        for (var r = 0; r < (_durable.Spec?.Reducers ?? 0); r++)
        {
            Reducers.Tell(new DeleteReduceData($"{_durable.JobId}.{r}"));
        }

        Index.Tell(new ForgetJob(IndexEntityId, _durable.JobId));
        DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
        DeleteMessages(long.MaxValue);
    }

    private TaskReportAcknowledged Ack(int task, int attempt) => new(_durable.JobId, task, attempt, _durable.IsActive);

    private JobStatusReply StatusReply(JobState? of = null)
    {
        var state = of ?? _durable;
        return new(
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
    }

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
}
