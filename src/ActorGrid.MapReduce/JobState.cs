#nullable enable
using System.Collections.Immutable;
using ActorGrid.Serialization;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>Where a job is in its life.</summary>
public enum JobPhase
{
    /// <summary>No job with this id was submitted.</summary>
    None,

    /// <summary>Submitted; the input is being split into map tasks.</summary>
    Planning,

    /// <summary>Map tasks are running.</summary>
    Mapping,

    /// <summary>Every map task has an accepted attempt; reduce partitions are reducing.</summary>
    Reducing,

    /// <summary>Finished successfully.</summary>
    Completed,

    /// <summary>Finished with an error.</summary>
    Failed,

    /// <summary>Cancelled.</summary>
    Cancelled,
}

/// <summary>How a map attempt stands.</summary>
public enum AttemptStatus
{
    /// <summary>Sent to a worker, no outcome yet.</summary>
    Running,

    /// <summary>Its output was accepted for the task.</summary>
    Succeeded,

    /// <summary>It reported an error.</summary>
    Failed,

    /// <summary>It ran past the task timeout.</summary>
    TimedOut,

    /// <summary>Its node left the cluster.</summary>
    NodeLost,

    /// <summary>Abandoned: another attempt won, or the job was cancelled.</summary>
    Killed,
}

/// <summary>One attempt of a map task.</summary>
public sealed record MapAttempt(int Number, string Node, bool Speculative, DateTimeOffset StartedAt, AttemptStatus Status, DateTimeOffset? EndedAt);

/// <summary>One map task: its plan, attempts, the accepted attempt and how often it failed.</summary>
/// <param name="Plan">The split and preferred node.</param>
/// <param name="Attempts">Every attempt, numbered from 1.</param>
/// <param name="Accepted">The accepted attempt's number, once one succeeded.</param>
/// <param name="AcceptedChunks">Chunks the accepted attempt delivered to each reduce partition.</param>
/// <param name="Failures">Failed or timed-out attempts (node losses do not count).</param>
/// <param name="LastFailureAt">When the last attempt ended without success (for the retry backoff).</param>
public sealed record MapTaskState(
    MapTaskPlan Plan,
    ImmutableList<MapAttempt> Attempts,
    int? Accepted,
    ImmutableArray<int> AcceptedChunks,
    int Failures,
    DateTimeOffset? LastFailureAt)
{
    /// <summary>The attempts still running.</summary>
    public IEnumerable<MapAttempt> Running => Attempts.Where(a => a.Status == AttemptStatus.Running);

    /// <summary>Whether any attempt is running.</summary>
    public bool IsRunning => Attempts.Any(a => a.Status == AttemptStatus.Running);
}

/// <summary>One reduce partition as its coordinator sees it.</summary>
/// <param name="Run">The partition's latest run seen (0: none yet).</param>
/// <param name="Completed">Whether it completed.</param>
/// <param name="Failures">Runs that failed or were lost.</param>
/// <param name="FailedRun">The latest run reported failed (0: none).</param>
public sealed record ReduceTaskState(int Run, bool Completed, int Failures, int FailedRun);

/// <summary>The cluster as a coordinator sees it when scheduling.</summary>
/// <param name="Available">Worker nodes that are Up and reachable: new attempts may go there.</param>
/// <param name="Present">Nodes still members (any reachability); attempts on other nodes are lost.</param>
public sealed record ClusterView(IReadOnlyCollection<string> Available, IReadOnlyCollection<string> Present);

/// <summary>
/// The pure state of one job's coordinator: every decision (accept, retry, time out, speculate, dispatch, finish)
/// is made here from commands, the clock and the cluster view, as events; <see cref="Apply"/> folds events into a
/// new state. The <see cref="JobCoordinator"/> actor only journals the events and performs their effects. Persisted
/// as a <see cref="JobSnapshot"/>.
/// </summary>
public sealed record JobState(
    string JobId,
    JobPhase Phase,
    JobSpec? Spec,
    DateTimeOffset? SubmittedAt,
    DateTimeOffset? FinishedAt,
    ImmutableList<MapTaskState> MapTasks,
    ImmutableList<ReduceTaskState> ReduceTasks,
    ImmutableDictionary<string, long> Counters,
    string? Error)
{
    /// <summary>The state of a job id nothing was submitted under.</summary>
    public static JobState Empty(string jobId) =>
        new(jobId, JobPhase.None, null, null, null, [], [], ImmutableDictionary<string, long>.Empty, null);

    /// <summary>Whether the job is still running (or being planned).</summary>
    public bool IsActive => Phase is JobPhase.Planning or JobPhase.Mapping or JobPhase.Reducing;

    /// <summary>Whether the job has finished one way or another.</summary>
    public bool IsFinished => Phase is JobPhase.Completed or JobPhase.Failed or JobPhase.Cancelled;

    /// <summary>The status users see.</summary>
    public JobStatus Status => Phase switch
    {
        JobPhase.None or JobPhase.Planning => JobStatus.Pending,
        JobPhase.Mapping or JobPhase.Reducing => JobStatus.Running,
        JobPhase.Completed => JobStatus.Completed,
        JobPhase.Failed => JobStatus.Failed,
        _ => JobStatus.Cancelled,
    };

    /// <summary>Map tasks with an accepted attempt.</summary>
    public int MapTasksCompleted => MapTasks.Count(t => t.Accepted is not null);

    /// <summary>Completed reduce partitions.</summary>
    public int ReduceTasksCompleted => ReduceTasks.Count(t => t.Completed);

    /// <summary>The snapshot DTO holding this state.</summary>
    public JobSnapshot ToSnapshot() => new(
        JobId,
        Phase,
        Spec,
        SubmittedAt,
        FinishedAt,
        [.. MapTasks.Select(t => new JobSnapshotTask(
            t.Plan,
            [.. t.Attempts.Select(a => new JobSnapshotAttempt(a.Number, a.Node, a.Speculative, a.StartedAt, a.Status, a.EndedAt))],
            t.Accepted,
            [.. t.AcceptedChunks],
            t.Failures,
            t.LastFailureAt))],
        [.. ReduceTasks.Select(r => new JobSnapshotReducer(r.Run, r.Completed, r.Failures, r.FailedRun))],
        Counters,
        Error);

    /// <summary>The state a snapshot holds.</summary>
    public static JobState FromSnapshot(JobSnapshot snapshot) => new(
        snapshot.JobId,
        snapshot.Phase,
        snapshot.Spec,
        snapshot.SubmittedAt,
        snapshot.FinishedAt,
        [.. snapshot.MapTasks.Select(t => new MapTaskState(
            t.Plan,
            [.. t.Attempts.Select(a => new MapAttempt(a.Number, a.Node, a.Speculative, a.StartedAt, a.Status, a.EndedAt))],
            t.Accepted,
            [.. t.AcceptedChunks],
            t.Failures,
            t.LastFailureAt))],
        [.. snapshot.ReduceTasks.Select(r => new ReduceTaskState(r.Run, r.Completed, r.Failures, r.FailedRun))],
        snapshot.Counters,
        snapshot.Error);

    // ---- Decisions ----------------------------------------------------------------------------------------------

    /// <summary>A submission: accepted when new or identical to the job already here, a conflict otherwise.</summary>
    public (SubmitJobResult Reply, IReadOnlyList<IActorGridMessage> Events) Submit(JobSpec spec, DateTimeOffset now)
    {
        if (Phase == JobPhase.None)
        {
            return (new SubmitJobResult(SubmitStatus.Accepted), [new JobSubmitted(spec, now)]);
        }

        return Spec == spec
            ? (new SubmitJobResult(SubmitStatus.Accepted), [])
            : (new SubmitJobResult(SubmitStatus.Conflict, $"job '{JobId}' already exists with a different definition"), []);
    }

    /// <summary>The input was split into <paramref name="tasks"/>.</summary>
    public IReadOnlyList<IActorGridMessage> Planned(IReadOnlyList<MapTaskPlan> tasks, DateTimeOffset now)
    {
        if (Phase != JobPhase.Planning)
        {
            return [];
        }

        var decision = new Decision(this);
        decision.Add(new JobPlanned([.. tasks], now));
        if (tasks.Count == 0)
        {
            decision.Add(new ReducePhaseStarted(now));
        }

        return decision.Events;
    }

    /// <summary>The input could not be planned.</summary>
    public IReadOnlyList<IActorGridMessage> PlanningFailed(string error, DateTimeOffset now) =>
        Phase == JobPhase.Planning ? [new JobFailed("planning the input failed: " + error, now)] : [];

    /// <summary>
    /// A map attempt reports success. The first success of a task is accepted (other running attempts of the task
    /// are killed); any later one is ignored, so a task's output is counted exactly once.
    /// </summary>
    public IReadOnlyList<IActorGridMessage> MapSucceeded(MapTaskSucceeded report, DateTimeOffset now)
    {
        if (Phase != JobPhase.Mapping || !TryGetAttempt(report.Task, report.Attempt, out var task, out var attempt)
            || task.Accepted is not null || attempt.Status == AttemptStatus.Killed || report.Chunks.Length != Spec!.Reducers)
        {
            return [];
        }

        var decision = new Decision(this);
        decision.Add(new MapAttemptSucceeded(report.Task, report.Attempt, report.Counters, report.Chunks, report.DataLocal, now));
        foreach (var other in task.Running.Where(a => a.Number != report.Attempt))
        {
            decision.Add(new MapAttemptKilled(report.Task, other.Number, now));
        }

        if (decision.State.MapTasks.All(t => t.Accepted is not null))
        {
            decision.Add(new ReducePhaseStarted(now));
        }

        return decision.Events;
    }

    /// <summary>A map attempt reports failure: the task is retried after a backoff, or the job fails after too many failures.</summary>
    public IReadOnlyList<IActorGridMessage> MapFailed(MapTaskFailed report, MapReduceProtocol.Settings settings, DateTimeOffset now)
    {
        if (Phase != JobPhase.Mapping || !TryGetAttempt(report.Task, report.Attempt, out var task, out var attempt)
            || task.Accepted is not null || attempt.Status != AttemptStatus.Running)
        {
            return [];
        }

        var decision = new Decision(this);
        EndAttempt(decision, report.Task, report.Attempt, AttemptOutcome.Failed, report.Error, settings, now);
        return decision.Events;
    }

    /// <summary>A reduce partition's answer: a new run, completion (the job completes with the last), or failure.</summary>
    public IReadOnlyList<IActorGridMessage> ReduceReplied(ReduceTaskReply reply, MapReduceProtocol.Settings settings, DateTimeOffset now)
    {
        if (Phase != JobPhase.Reducing || reply.Reducer < 0 || reply.Reducer >= ReduceTasks.Count || ReduceTasks[reply.Reducer].Completed
            || reply.Run < ReduceTasks[reply.Reducer].Run)
        {
            return [];
        }

        var decision = new Decision(this);
        if (reply.Run > ReduceTasks[reply.Reducer].Run)
        {
            decision.Add(new ReduceRunObserved(reply.Reducer, reply.Run, now));
        }

        switch (reply.State)
        {
            case ReduceRunState.Completed:
                decision.Add(new ReduceTaskCompleted(reply.Reducer, reply.Run, reply.Counters, now));
                if (decision.State.ReduceTasks.All(t => t.Completed))
                {
                    decision.Add(new JobCompleted(now));
                }

                break;
            case ReduceRunState.Failed when decision.State.ReduceTasks[reply.Reducer].FailedRun != reply.Run:
                var error = reply.Error ?? "unknown error";
                decision.Add(new ReduceRunFailed(reply.Reducer, reply.Run, error, now));
                if (decision.State.ReduceTasks[reply.Reducer].Failures >= settings.MaxAttempts)
                {
                    decision.Add(new JobFailed($"reduce partition {reply.Reducer} failed {settings.MaxAttempts} times; last error: {error}", now));
                }

                break;
        }

        return decision.Events;
    }

    /// <summary>A user cancels the job: running attempts are killed and no task starts any more.</summary>
    public (CancelStatus Status, IReadOnlyList<IActorGridMessage> Events) Cancel(DateTimeOffset now)
    {
        switch (Phase)
        {
            case JobPhase.None:
                return (CancelStatus.NotFound, []);
            case JobPhase.Cancelled:
                return (CancelStatus.Cancelled, []);
            case JobPhase.Completed or JobPhase.Failed:
                return (CancelStatus.AlreadyFinished, []);
        }

        var decision = new Decision(this);
        for (var t = 0; t < MapTasks.Count; t++)
        {
            foreach (var attempt in MapTasks[t].Running)
            {
                decision.Add(new MapAttemptKilled(t, attempt.Number, now));
            }
        }

        decision.Add(new JobCancelled(now));
        return (CancelStatus.Cancelled, decision.Events);
    }

    /// <summary>
    /// What the clock and the cluster call for: attempts on lost nodes and timed-out attempts end (and are retried
    /// after a backoff, or fail the job), pending tasks go to free slots (a node's slots plus the attempts it may
    /// queue) — first on the node that holds their data — and, once nothing is pending, stragglers get one
    /// speculative copy on another node.
    /// </summary>
    /// <param name="now">The time.</param>
    /// <param name="view">Which worker nodes exist and which can take work.</param>
    /// <param name="settings">Slots, timeouts, attempts and speculation thresholds.</param>
    /// <param name="liveSince">When this coordinator incarnation started: attempts it recovered are timed from here.</param>
    /// <param name="delivering">Running attempts that have computed their output and are delivering it: they hold no slot and are no stragglers.</param>
    public IReadOnlyList<IActorGridMessage> Schedule(
        DateTimeOffset now, ClusterView view, MapReduceProtocol.Settings settings, DateTimeOffset liveSince, IReadOnlySet<(int Task, int Attempt)>? delivering = null)
    {
        if (Phase != JobPhase.Mapping)
        {
            return [];
        }

        var decision = new Decision(this);
        var present = view.Present as IReadOnlySet<string> ?? view.Present.ToHashSet(StringComparer.Ordinal);
        for (var t = 0; t < MapTasks.Count && decision.State.Phase == JobPhase.Mapping; t++)
        {
            foreach (var attempt in MapTasks[t].Running)
            {
                if (!present.Contains(attempt.Node))
                {
                    EndAttempt(decision, t, attempt.Number, AttemptOutcome.NodeLost, $"node {attempt.Node} left the cluster", settings, now);
                }
                else if (now - Max(attempt.StartedAt, liveSince) > settings.TaskTimeout)
                {
                    EndAttempt(decision, t, attempt.Number, AttemptOutcome.TimedOut,
                        $"no result after {settings.TaskTimeout.TotalSeconds:0.#}s on {attempt.Node}", settings, now);
                }
            }
        }

        if (decision.State.Phase == JobPhase.Mapping)
        {
            Dispatch(decision, view, settings, now, liveSince, delivering ?? new HashSet<(int, int)>());
        }

        return decision.Events;
    }

    private static void Dispatch(
        Decision decision, ClusterView view, MapReduceProtocol.Settings settings, DateTimeOffset now, DateTimeOffset liveSince, IReadOnlySet<(int, int)> delivering)
    {
        var state = decision.State;
        var free = view.Available.ToDictionary(n => n, _ => settings.MapSlotsPerNode + settings.MapPrefetchPerNode, StringComparer.Ordinal);
        for (var t = 0; t < state.MapTasks.Count; t++)
        {
            foreach (var attempt in state.MapTasks[t].Running)
            {
                if (free.ContainsKey(attempt.Node) && !delivering.Contains((t, attempt.Number)))
                {
                    free[attempt.Node]--;
                }
            }
        }

        var pending = Enumerable.Range(0, state.MapTasks.Count)
            .Where(t => state.MapTasks[t] is { Accepted: null, IsRunning: false } task && RetryDue(task, settings, now))
            .ToList();
        var waiting = state.MapTasks.Count(t => t is { Accepted: null, IsRunning: false }) - pending.Count;

        // Locality first: each node takes the tasks whose data it holds while it has slots.
        var unplaced = new List<int>();
        foreach (var t in pending)
        {
            var preferred = state.MapTasks[t].Plan.PreferredNode;
            if (preferred is not null && free.GetValueOrDefault(preferred) > 0)
            {
                Start(decision, free, t, preferred, speculative: false, now);
            }
            else
            {
                unplaced.Add(t);
            }
        }

        // Then any free slot, the emptiest node first.
        foreach (var t in unplaced)
        {
            var node = free.Where(f => f.Value > 0).OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal)
                .Select(f => f.Key).FirstOrDefault();
            if (node is null)
            {
                return;
            }

            Start(decision, free, t, node, speculative: false, now);
        }

        if (waiting > 0 || !free.Values.Any(f => f > 0))
        {
            return;
        }

        var finished = state.MapTasks.Where(t => t.Accepted is not null)
            .Select(t => t.Attempts[t.Accepted!.Value - 1])
            .Select(a => (a.EndedAt!.Value - a.StartedAt).Ticks)
            .Order()
            .ToList();
        if (finished.Count == 0)
        {
            return;
        }

        var threshold = TimeSpan.FromTicks(Math.Max(settings.SpeculativeMinRuntime.Ticks, (long)(finished[finished.Count / 2] * settings.SpeculativeAfterFactor)));
        var stragglers = Enumerable.Range(0, decision.State.MapTasks.Count)
            .Select(t => (Task: t, State: decision.State.MapTasks[t]))
            .Where(x => x.State.Accepted is null && x.State.Running.Count() == 1 && !x.State.Attempts.Any(a => a.Speculative))
            .Select(x => (x.Task, Attempt: x.State.Running.Single()))
            .Where(x => !delivering.Contains((x.Task, x.Attempt.Number)) && now - Max(x.Attempt.StartedAt, liveSince) > threshold)
            .OrderBy(x => x.Attempt.StartedAt)
            .ToList();
        foreach (var (task, running) in stragglers)
        {
            var node = free.Where(f => f.Value > 0 && f.Key != running.Node).OrderByDescending(f => f.Value)
                .ThenBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key).FirstOrDefault();
            if (node is not null)
            {
                Start(decision, free, task, node, speculative: true, now);
            }
        }
    }

    private static void Start(Decision decision, Dictionary<string, int> free, int task, string node, bool speculative, DateTimeOffset now)
    {
        free[node]--;
        decision.Add(new MapAttemptStarted(task, decision.State.MapTasks[task].Attempts.Count + 1, node, speculative, now));
    }

    private static bool RetryDue(MapTaskState task, MapReduceProtocol.Settings settings, DateTimeOffset now) =>
        task.LastFailureAt is not { } failedAt || task.Failures == 0 || now >= failedAt + Backoff(task.Failures, settings);

    /// <summary>The wait before retrying a task that failed <paramref name="failures"/> times: doubling, at most 8× the base.</summary>
    public static TimeSpan Backoff(int failures, MapReduceProtocol.Settings settings) =>
        settings.RetryBackoff * Math.Pow(2, Math.Min(3, Math.Max(0, failures - 1)));

    private static void EndAttempt(
        Decision decision, int task, int attempt, AttemptOutcome outcome, string reason, MapReduceProtocol.Settings settings, DateTimeOffset now)
    {
        decision.Add(new MapAttemptFailed(task, attempt, outcome, reason, now));
        var state = decision.State.MapTasks[task];
        if (outcome != AttemptOutcome.NodeLost && state.Failures >= settings.MaxAttempts && !state.IsRunning)
        {
            decision.Add(new JobFailed($"map task {task} failed {state.Failures} times; last error: {reason}", now));
        }
    }

    private bool TryGetAttempt(int task, int attempt, out MapTaskState taskState, out MapAttempt attemptState)
    {
        taskState = null!;
        attemptState = null!;
        if (task < 0 || task >= MapTasks.Count || attempt < 1 || attempt > MapTasks[task].Attempts.Count)
        {
            return false;
        }

        taskState = MapTasks[task];
        attemptState = taskState.Attempts[attempt - 1];
        return true;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    // ---- Apply --------------------------------------------------------------------------------------------------

    /// <summary>The state after <paramref name="event"/>.</summary>
    public JobState Apply(IActorGridMessage @event) => @event switch
    {
        JobSubmitted e => this with
        {
            Phase = JobPhase.Planning,
            Spec = e.Spec,
            SubmittedAt = e.At,
            ReduceTasks = Enumerable.Repeat(new ReduceTaskState(0, false, 0, 0), e.Spec.Reducers).ToImmutableList(),
        },
        JobPlanned e => this with
        {
            Phase = JobPhase.Mapping,
            MapTasks = e.Tasks.Select(p => new MapTaskState(p, [], null, [], 0, null)).ToImmutableList(),
        },
        MapAttemptStarted e => WithTask(e.Task, t => t with
            {
                Attempts = t.Attempts.Add(new MapAttempt(e.Attempt, e.Node, e.Speculative, e.At, AttemptStatus.Running, null)),
            })
            .Count(JobCounters.MapAttempts)
            .Count(JobCounters.TaskAttempts)
            .Count(JobCounters.SpeculativeAttempts, e.Speculative ? 1 : 0)
            .Count(JobCounters.RetriedAttempts, !e.Speculative && MapTasks[e.Task].Attempts.Count > 0 ? 1 : 0),
        MapAttemptSucceeded e => WithTask(e.Task, t => t with
            {
                Attempts = EndAttempt(t.Attempts, e.Attempt, AttemptStatus.Succeeded, e.At),
                Accepted = e.Attempt,
                AcceptedChunks = [.. e.Chunks],
            })
            .AddCounters(e.Counters)
            .Count(e.DataLocal ? JobCounters.DataLocalMapTasks : JobCounters.RemoteMapTasks, MapTasks[e.Task].Plan.Split is KvPartitionsSplit ? 1 : 0),
        MapAttemptFailed e => WithTask(e.Task, t => t with
            {
                Attempts = EndAttempt(t.Attempts, e.Attempt, e.Outcome switch
                {
                    AttemptOutcome.TimedOut => AttemptStatus.TimedOut,
                    AttemptOutcome.NodeLost => AttemptStatus.NodeLost,
                    _ => AttemptStatus.Failed,
                }, e.At),
                Failures = t.Failures + (e.Outcome == AttemptOutcome.NodeLost ? 0 : 1),
                LastFailureAt = e.At,
            })
            .Count(JobCounters.FailedAttempts),
        MapAttemptKilled e => WithTask(e.Task, t => t with { Attempts = EndAttempt(t.Attempts, e.Attempt, AttemptStatus.Killed, e.At) })
            .Count(JobCounters.KilledAttempts),
        ReducePhaseStarted => this with { Phase = JobPhase.Reducing },
        ReduceRunObserved e => WithReducer(e.Reducer, r => r with
            {
                Run = e.Run,
                // A run that vanished without a failure report was lost with its node.
                Failures = r.Failures + (r.Run > 0 && r.FailedRun != r.Run ? 1 : 0),
            })
            .Count(JobCounters.ReduceAttempts)
            .Count(JobCounters.TaskAttempts)
            .Count(JobCounters.RetriedAttempts, ReduceTasks[e.Reducer].Run > 0 ? 1 : 0)
            .Count(JobCounters.FailedAttempts, ReduceTasks[e.Reducer].Run > 0 && ReduceTasks[e.Reducer].FailedRun != ReduceTasks[e.Reducer].Run ? 1 : 0),
        ReduceTaskCompleted e => WithReducer(e.Reducer, r => r with { Completed = true }).AddCounters(e.Counters),
        ReduceRunFailed e => WithReducer(e.Reducer, r => r with { Failures = r.Failures + 1, FailedRun = e.Run })
            .Count(JobCounters.FailedAttempts),
        JobCompleted e => this with { Phase = JobPhase.Completed, FinishedAt = e.At },
        JobFailed e => this with { Phase = JobPhase.Failed, FinishedAt = e.At, Error = e.Error },
        JobCancelled e => this with { Phase = JobPhase.Cancelled, FinishedAt = e.At },
        _ => throw new ArgumentException($"{@event.GetType().Name} is not a job event", nameof(@event)),
    };

    private JobState WithTask(int task, Func<MapTaskState, MapTaskState> change) => this with { MapTasks = MapTasks.SetItem(task, change(MapTasks[task])) };

    private JobState WithReducer(int reducer, Func<ReduceTaskState, ReduceTaskState> change) =>
        this with { ReduceTasks = ReduceTasks.SetItem(reducer, change(ReduceTasks[reducer])) };

    private static ImmutableList<MapAttempt> EndAttempt(ImmutableList<MapAttempt> attempts, int number, AttemptStatus status, DateTimeOffset at) =>
        attempts.SetItem(number - 1, attempts[number - 1] with { Status = status, EndedAt = at });

    private JobState Count(string counter, long by = 1) =>
        by == 0 ? this : this with { Counters = Counters.SetItem(counter, Counters.GetValueOrDefault(counter) + by) };

    private JobState AddCounters(ImmutableDictionary<string, long> counters)
    {
        var builder = Counters.ToBuilder();
        foreach (var (name, value) in counters)
        {
            builder[name] = builder.GetValueOrDefault(name) + value;
        }

        return this with { Counters = builder.ToImmutable() };
    }

    /// <summary>Events decided so far and the state they lead to, so later decisions see earlier ones.</summary>
    private sealed class Decision(JobState state)
    {
        public JobState State { get; private set; } = state;

        public List<IActorGridMessage> Events { get; } = [];

        public void Add(IActorGridMessage @event)
        {
            Events.Add(@event);
            State = State.Apply(@event);
        }
    }
}
