using System.Collections.Immutable;
using ActorGrid.MapReduce;
using ActorGrid.Serialization;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Tests;

/// <summary>The coordinator's decisions, without actors: planning, dispatch, retries, speculation, completion.</summary>
public sealed class JobStateTests
{
    private const string A = "akka.tcp://grid@127.0.0.1:1";
    private const string B = "akka.tcp://grid@127.0.0.1:2";
    private const string C = "akka.tcp://grid@127.0.0.1:3";

    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Settings Settings = Settings.Default(2) with
    {
        MapSlotsPerNode = 2,
        MaxAttempts = 3,
        RetryBackoff = TimeSpan.FromSeconds(1),
        TaskTimeout = TimeSpan.FromSeconds(60),
        SpeculativeAfterFactor = 2,
        SpeculativeMinRuntime = TimeSpan.FromSeconds(5),
    };

    private static readonly ClusterView ThreeNodes = new([A, B, C], new HashSet<string> { A, B, C });

    private static readonly JobSpec Spec = new("wordcount", new InputSpec(null, "docs/", null), "out/", 2, "{}");

    [Fact]
    public void A_new_job_is_journaled_and_an_identical_resubmission_is_accepted_without_events()
    {
        var (reply, events) = JobState.Empty("j").Submit(Spec, T0);
        Assert.Equal(SubmitStatus.Accepted, reply.Status);
        var submitted = Assert.IsType<JobSubmitted>(Assert.Single(events));
        var state = Fold(JobState.Empty("j"), events);
        Assert.Equal(JobPhase.Planning, state.Phase);
        Assert.Equal(JobStatus.Pending, state.Status);
        Assert.Equal(2, state.ReduceTasks.Count);
        Assert.Equal(Spec, submitted.Spec);

        var again = state.Submit(Spec, T0.AddSeconds(1));
        Assert.Equal(SubmitStatus.Accepted, again.Reply.Status);
        Assert.Empty(again.Events);

        var other = state.Submit(Spec with { Reducers = 3 }, T0.AddSeconds(1));
        Assert.Equal(SubmitStatus.Conflict, other.Reply.Status);
        Assert.Empty(other.Events);
    }

    [Fact]
    public void Planning_creates_one_task_per_split_and_an_empty_plan_goes_straight_to_reduce()
    {
        var planned = Planned(Plan(A, B, null));
        Assert.Equal(JobPhase.Mapping, planned.Phase);
        Assert.Equal(3, planned.MapTasks.Count);
        Assert.Equal(JobStatus.Running, planned.Status);

        var submitted = Submitted();
        var empty = submitted.Planned([], T0);
        Assert.Collection(empty, e => Assert.IsType<JobPlanned>(e), e => Assert.IsType<ReducePhaseStarted>(e));
        Assert.Equal(JobPhase.Reducing, Fold(submitted, empty).Phase);
    }

    [Fact]
    public void Tasks_go_to_the_node_that_holds_their_data_first_and_to_free_slots_after()
    {
        // Four tasks on A's data, one on B's, one anywhere; two slots per node.
        var state = Planned(Plan(A, A, A, A, B, null));

        var events = state.Schedule(T0, ThreeNodes, Settings, T0);
        var starts = events.Cast<MapAttemptStarted>().ToDictionary(s => s.Task, s => s.Node);

        Assert.Equal(6, starts.Count);
        Assert.Equal(A, starts[0]);
        Assert.Equal(A, starts[1]);
        Assert.Equal(B, starts[4]);
        // A is full: its other two tasks and the free task go to the emptiest nodes.
        Assert.Equal(2, starts.Values.Count(n => n == A));
        Assert.Equal(2, starts.Values.Count(n => n == B));
        Assert.Equal(2, starts.Values.Count(n => n == C));
        Assert.All(events.Cast<MapAttemptStarted>(), s => Assert.Equal(1, s.Attempt));

        // With every slot taken nothing more starts.
        var after = Fold(state, events);
        Assert.Empty(after.Schedule(T0.AddSeconds(1), ThreeNodes, Settings, T0));
    }

    [Fact]
    public void Attempts_delivering_their_output_free_their_slot_for_the_next_task()
    {
        var onlyA = new ClusterView([A], new HashSet<string> { A });
        var state = Planned(Plan(A, A, A, A));
        state = Fold(state, state.Schedule(T0, onlyA, Settings, T0));
        Assert.Equal(2, state.MapTasks.Count(t => t.IsRunning));

        // Task 0 computed its output and now waits for the reduce partitions to store it.
        var events = state.Schedule(T0.AddSeconds(1), onlyA, Settings, T0, new HashSet<(int, int)> { (0, 1) });

        var next = Assert.IsType<MapAttemptStarted>(Assert.Single(events));
        Assert.Equal(2, next.Task);
    }

    [Fact]
    public void Only_available_nodes_get_work()
    {
        var state = Planned(Plan(C, C, C));
        var onlyA = new ClusterView([A], new HashSet<string> { A, B, C });

        var events = state.Schedule(T0, onlyA, Settings, T0).Cast<MapAttemptStarted>().ToList();

        Assert.Equal(2, events.Count);
        Assert.All(events, s => Assert.Equal(A, s.Node));
    }

    [Fact]
    public void The_first_success_of_a_task_is_accepted_once_and_its_counters_counted_once()
    {
        var state = Running(Plan(A, B));

        var accepted = state.MapSucceeded(Success(0, 1, records: 10), T0.AddSeconds(1));
        var succeeded = Assert.IsType<MapAttemptSucceeded>(Assert.Single(accepted));
        Assert.Equal(0, succeeded.Task);
        state = Fold(state, accepted);
        Assert.Equal(1, state.MapTasks[0].Accepted);
        Assert.Equal(10, state.Counters[JobCounters.MapInputRecords]);

        // The same report again (a resend), and a late report of the same task: ignored.
        Assert.Empty(state.MapSucceeded(Success(0, 1, records: 10), T0.AddSeconds(2)));
        Assert.Equal(10, state.Counters[JobCounters.MapInputRecords]);
        Assert.Equal(1, state.MapTasksCompleted);
    }

    [Fact]
    public void When_the_last_map_task_is_accepted_the_reduce_phase_starts()
    {
        var state = Running(Plan(A, B));
        state = Fold(state, state.MapSucceeded(Success(0, 1), T0.AddSeconds(1)));

        var events = state.MapSucceeded(Success(1, 1), T0.AddSeconds(2));

        Assert.Collection(events, e => Assert.IsType<MapAttemptSucceeded>(e), e => Assert.IsType<ReducePhaseStarted>(e));
        Assert.Equal(JobPhase.Reducing, Fold(state, events).Phase);
    }

    [Fact]
    public void A_failed_attempt_is_retried_after_the_backoff_and_the_job_fails_after_max_attempts()
    {
        var state = Running(Plan(A));
        var now = T0.AddSeconds(1);

        state = Fold(state, state.MapFailed(new MapTaskFailed("j", 0, 1, "boom"), Settings, now));
        Assert.Equal(AttemptStatus.Failed, state.MapTasks[0].Attempts[0].Status);
        Assert.Equal(1, state.Counters[JobCounters.FailedAttempts]);

        // Not before the backoff.
        Assert.Empty(state.Schedule(now.AddMilliseconds(500), ThreeNodes, Settings, T0));
        var retry = Assert.IsType<MapAttemptStarted>(Assert.Single(state.Schedule(now.AddSeconds(1), ThreeNodes, Settings, T0)));
        Assert.Equal(2, retry.Attempt);
        Assert.False(retry.Speculative);
        state = Fold(state, [retry]);
        Assert.Equal(1, state.Counters[JobCounters.RetriedAttempts]);

        // A report for the failed attempt is stale now.
        Assert.Empty(state.MapFailed(new MapTaskFailed("j", 0, 1, "boom again"), Settings, now.AddSeconds(2)));

        state = Fold(state, state.MapFailed(new MapTaskFailed("j", 0, 2, "boom"), Settings, now.AddSeconds(2)));
        // The backoff doubles: 2 s after the second failure.
        Assert.Empty(state.Schedule(now.AddSeconds(3.5), ThreeNodes, Settings, T0));
        var third = Assert.IsType<MapAttemptStarted>(Assert.Single(state.Schedule(now.AddSeconds(4), ThreeNodes, Settings, T0)));
        state = Fold(state, [third]);

        var last = state.MapFailed(new MapTaskFailed("j", 0, 3, "still broken"), Settings, now.AddSeconds(5));
        var failed = Assert.IsType<JobFailed>(last[^1]);
        Assert.Contains("map task 0 failed 3 times", failed.Error);
        Assert.Contains("still broken", failed.Error);
        state = Fold(state, last);
        Assert.Equal(JobStatus.Failed, state.Status);
        Assert.Empty(state.Schedule(now.AddSeconds(60), ThreeNodes, Settings, T0));
    }

    [Fact]
    public void An_attempt_past_the_timeout_is_given_up_and_retried()
    {
        var state = Running(Plan(A));

        var events = state.Schedule(T0.AddSeconds(61), ThreeNodes, Settings, T0);

        var timedOut = Assert.IsType<MapAttemptFailed>(events[0]);
        Assert.Equal(AttemptOutcome.TimedOut, timedOut.Outcome);
        Assert.Equal(1, Fold(state, events).MapTasks[0].Failures);
    }

    [Fact]
    public void Attempts_recovered_by_a_new_coordinator_are_timed_from_its_start()
    {
        var state = Running(Plan(A));
        var recoveredAt = T0.AddSeconds(50);

        Assert.Empty(state.Schedule(T0.AddSeconds(61), ThreeNodes, Settings, recoveredAt));
        Assert.NotEmpty(state.Schedule(recoveredAt.AddSeconds(61), ThreeNodes, Settings, recoveredAt));
    }

    [Fact]
    public void Attempts_on_a_lost_node_are_rerun_at_once_without_counting_as_task_failures()
    {
        var state = Running(Plan(A, B));
        var withoutB = new ClusterView([A, C], new HashSet<string> { A, C });

        var events = state.Schedule(T0.AddSeconds(5), withoutB, Settings, T0);

        var lost = Assert.IsType<MapAttemptFailed>(events[0]);
        Assert.Equal(AttemptOutcome.NodeLost, lost.Outcome);
        Assert.Equal(1, lost.Task);
        var rerun = Assert.IsType<MapAttemptStarted>(Assert.Single(events.Skip(1)));
        Assert.Equal(1, rerun.Task);
        Assert.Equal(2, rerun.Attempt);
        Assert.NotEqual(B, rerun.Node);
        state = Fold(state, events);
        Assert.Equal(0, state.MapTasks[1].Failures);
        Assert.Equal(1, state.Counters[JobCounters.FailedAttempts]);
        Assert.Equal(1, state.Counters[JobCounters.RetriedAttempts]);
    }

    [Fact]
    public void A_task_accepted_before_its_node_is_lost_is_not_run_again()
    {
        var state = Running(Plan(A, B));
        state = Fold(state, state.MapSucceeded(Success(1, 1), T0.AddSeconds(1)));
        var withoutB = new ClusterView([A, C], new HashSet<string> { A, C });

        var events = state.Schedule(T0.AddSeconds(5), withoutB, Settings, T0);

        Assert.Empty(events);
        Assert.Equal(1, state.MapTasks[1].Accepted);
    }

    [Fact]
    public void A_straggler_gets_one_speculative_copy_on_another_node_and_the_loser_is_killed()
    {
        // Four tasks, one node's worth of slots each: A runs 0 and 1, B runs 2 and 3.
        var view = new ClusterView([A, B], new HashSet<string> { A, B });
        var state = Planned(Plan(A, A, B, B));
        state = Fold(state, state.Schedule(T0, view, Settings, T0));
        state = Fold(state, state.MapSucceeded(Success(0, 1), T0.AddSeconds(2)));
        state = Fold(state, state.MapSucceeded(Success(2, 1), T0.AddSeconds(2)));
        state = Fold(state, state.MapSucceeded(Success(3, 1), T0.AddSeconds(3)));

        // Median 2-3 s; threshold max(5 s, 2 × median): nothing at 4 s, a copy of task 1 on B at 7 s.
        Assert.Empty(state.Schedule(T0.AddSeconds(4), view, Settings, T0));
        var events = state.Schedule(T0.AddSeconds(7), view, Settings, T0);
        var copy = Assert.IsType<MapAttemptStarted>(Assert.Single(events));
        Assert.True(copy.Speculative);
        Assert.Equal(1, copy.Task);
        Assert.Equal(2, copy.Attempt);
        Assert.Equal(B, copy.Node);
        state = Fold(state, events);
        Assert.Equal(1, state.Counters[JobCounters.SpeculativeAttempts]);

        // Only one copy per task.
        Assert.Empty(state.Schedule(T0.AddSeconds(30), view, Settings, T0));

        // The copy wins: the original is killed, and its late success is ignored.
        var won = state.MapSucceeded(Success(1, 2, records: 5), T0.AddSeconds(8));
        Assert.Collection(won,
            e => Assert.Equal(2, Assert.IsType<MapAttemptSucceeded>(e).Attempt),
            e => Assert.Equal(1, Assert.IsType<MapAttemptKilled>(e).Attempt),
            e => Assert.IsType<ReducePhaseStarted>(e));
        state = Fold(state, won);
        Assert.Empty(state.MapSucceeded(Success(1, 1, records: 5), T0.AddSeconds(9)));
        Assert.Equal(1, state.Counters[JobCounters.KilledAttempts]);
        Assert.Equal(3 + 5, state.Counters[JobCounters.MapInputRecords]);
    }

    [Fact]
    public void Reduce_partitions_complete_the_job_and_a_repeated_completion_is_ignored()
    {
        var state = Reducing();

        state = Fold(state, state.ReduceReplied(Reply(0, 1, ReduceRunState.Running), Settings, T0));
        Assert.Equal(1, state.Counters[JobCounters.ReduceAttempts]);

        var first = state.ReduceReplied(Reply(0, 1, ReduceRunState.Completed, outputs: 4), Settings, T0);
        Assert.IsType<ReduceTaskCompleted>(Assert.Single(first));
        state = Fold(state, first);
        Assert.Empty(state.ReduceReplied(Reply(0, 1, ReduceRunState.Completed, outputs: 4), Settings, T0));

        var last = state.ReduceReplied(Reply(1, 1, ReduceRunState.Completed, outputs: 3), Settings, T0);
        Assert.Collection(last,
            e => Assert.IsType<ReduceRunObserved>(e),
            e => Assert.IsType<ReduceTaskCompleted>(e),
            e => Assert.IsType<JobCompleted>(e));
        state = Fold(state, last);
        Assert.Equal(JobStatus.Completed, state.Status);
        Assert.Equal(7, state.Counters[JobCounters.ReduceOutputRecords]);
        Assert.Equal(2, state.ReduceTasksCompleted);
    }

    [Fact]
    public void A_reduce_run_lost_with_its_node_counts_as_a_failed_and_retried_attempt()
    {
        var state = Reducing();
        state = Fold(state, state.ReduceReplied(Reply(0, 1, ReduceRunState.Running), Settings, T0));

        // The partition moved and started run 2 from its journal.
        state = Fold(state, state.ReduceReplied(Reply(0, 2, ReduceRunState.Running), Settings, T0));

        Assert.Equal(2, state.ReduceTasks[0].Run);
        Assert.Equal(1, state.ReduceTasks[0].Failures);
        Assert.Equal(1, state.Counters[JobCounters.FailedAttempts]);
        Assert.Equal(1, state.Counters[JobCounters.RetriedAttempts]);
    }

    [Fact]
    public void A_reduce_partition_failing_max_attempts_fails_the_job()
    {
        var state = Reducing();
        for (var run = 1; run <= 3; run++)
        {
            var events = state.ReduceReplied(Reply(1, run, ReduceRunState.Failed, error: "disk on fire"), Settings, T0);
            state = Fold(state, events);
            Assert.Empty(state.ReduceReplied(Reply(1, run, ReduceRunState.Failed, error: "disk on fire"), Settings, T0));
        }

        Assert.Equal(JobStatus.Failed, state.Status);
        Assert.Contains("reduce partition 1 failed 3 times", state.Error);
    }

    [Fact]
    public void Cancelling_kills_running_attempts_and_later_reports_change_nothing()
    {
        var state = Running(Plan(A, B));

        var (status, events) = state.Cancel(T0.AddSeconds(1));

        Assert.Equal(CancelStatus.Cancelled, status);
        Assert.Equal(2, events.OfType<MapAttemptKilled>().Count());
        state = Fold(state, events);
        Assert.Equal(JobStatus.Cancelled, state.Status);
        Assert.Empty(state.MapSucceeded(Success(0, 1), T0.AddSeconds(2)));
        Assert.Empty(state.Schedule(T0.AddSeconds(3), ThreeNodes, Settings, T0));
        Assert.Equal(CancelStatus.Cancelled, state.Cancel(T0.AddSeconds(4)).Status);
        Assert.Equal(CancelStatus.NotFound, JobState.Empty("x").Cancel(T0).Status);
    }

    [Fact]
    public void A_completed_job_cannot_be_cancelled()
    {
        var state = Reducing();
        state = Fold(state, state.ReduceReplied(Reply(0, 1, ReduceRunState.Completed), Settings, T0));
        state = Fold(state, state.ReduceReplied(Reply(1, 1, ReduceRunState.Completed), Settings, T0));

        var (status, events) = state.Cancel(T0);

        Assert.Equal(CancelStatus.AlreadyFinished, status);
        Assert.Empty(events);
    }

    [Fact]
    public void Recovery_from_the_journal_reaches_the_same_state()
    {
        var journal = new List<IActorGridMessage>();
        var state = JobState.Empty("j");

        void Record(IReadOnlyList<IActorGridMessage> events)
        {
            journal.AddRange(events);
            state = Fold(state, events);
        }

        Record(state.Submit(Spec, T0).Events);
        Record(state.Planned(Plan(A, B, C), T0));
        Record(state.Schedule(T0, ThreeNodes, Settings, T0));
        Record(state.MapSucceeded(Success(0, 1, records: 3), T0.AddSeconds(1)));
        Record(state.MapFailed(new MapTaskFailed("j", 1, 1, "x"), Settings, T0.AddSeconds(1)));

        var recovered = journal.Aggregate(JobState.Empty("j"), (s, e) => s.Apply(e));

        Assert.Equal(state.Phase, recovered.Phase);
        Assert.Equal(state.MapTasks.Select(t => (t.Accepted, t.Failures, t.Attempts.Count)), recovered.MapTasks.Select(t => (t.Accepted, t.Failures, t.Attempts.Count)));
        Assert.Equal(state.Counters.OrderBy(c => c.Key), recovered.Counters.OrderBy(c => c.Key));
    }

    private static JobState Fold(JobState state, IEnumerable<IActorGridMessage> events) => events.Aggregate(state, (s, e) => s.Apply(e));

    private static MapTaskPlan[] Plan(params string?[] preferred) =>
        preferred.Select((node, i) => new MapTaskPlan(new KvPartitionsSplit([i]), node)).ToArray();

    private static JobState Submitted()
    {
        var empty = JobState.Empty("j");
        return Fold(empty, empty.Submit(Spec, T0).Events);
    }

    private static JobState Planned(MapTaskPlan[] plan)
    {
        var submitted = Submitted();
        return Fold(submitted, submitted.Planned(plan, T0));
    }

    private static JobState Running(MapTaskPlan[] plan)
    {
        var planned = Planned(plan);
        return Fold(planned, planned.Schedule(T0, ThreeNodes, Settings, T0));
    }

    private static JobState Reducing()
    {
        var state = Running(Plan(A, B));
        state = Fold(state, state.MapSucceeded(Success(0, 1), T0));
        state = Fold(state, state.MapSucceeded(Success(1, 1), T0));
        Assert.Equal(JobPhase.Reducing, state.Phase);
        return state;
    }

    private static MapTaskSucceeded Success(int task, int attempt, long records = 1) =>
        new("j", task, attempt, A, ImmutableDictionary<string, long>.Empty.Add(JobCounters.MapInputRecords, records), [1, 1], DataLocal: true);

    private static ReduceTaskReply Reply(int reducer, int run, ReduceRunState state, long outputs = 0, string? error = null) =>
        new("j", reducer, run, state, ImmutableDictionary<string, long>.Empty.Add(JobCounters.ReduceOutputRecords, outputs), error);
}
