using System.Collections.Immutable;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Configuration;
using static ActorGrid.MapReduce.MapReduceProtocol;
using Settings = ActorGrid.MapReduce.MapReduceProtocol.Settings;

namespace ActorGrid.MapReduce.Tests;

/// <summary>What the role persists: golden payloads of earlier versions keep loading; snapshots are DTOs of their own.</summary>
public sealed class PersistedFormatTests
{
    [Fact]
    public void Events_and_snapshots_stored_by_earlier_versions_keep_loading()
    {
        var registry = new ManifestRegistry();
        MapReduceProtocol.RegisterManifests(registry);
        var setup = BootstrapSetup.Create().WithConfig(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
            .And(SerializationChecks.Setup(registry));
        using var system = ActorSystem.Create("mr-golden", setup);

        var read = SerializationChecks.AssertGoldenPayloads(system, Path.Combine(AppContext.BaseDirectory, "Golden"),
        [
            "mr.job-submitted.v1", "mr.job-planned.v1", "mr.map-attempt-started.v1", "mr.map-attempt-succeeded.v1", "mr.map-attempt-failed.v1",
            "mr.map-attempt-killed.v1", "mr.reduce-phase-started.v1", "mr.reduce-run-observed.v1", "mr.reduce-task-completed.v1",
            "mr.reduce-run-failed.v1", "mr.job-completed.v1", "mr.job-failed.v1", "mr.job-cancelled.v1", "mr.job-state.v1",
            "mr.map-output-received.v1", "mr.reduce-run-started.v1", "mr.reduce-data-discarded.v1", "mr.reduce-partition-snapshot.v1",
            "mr.job-recorded.v1", "mr.job-forgotten.v1", "mr.job-index-snapshot.v1",
        ]);

        // The coordinator's snapshot was once the state record itself; its DTO reads it and the state it holds decides on.
        var job = JobState.FromSnapshot(Assert.IsType<JobSnapshot>(read["mr.job-state.v1"]));
        Assert.Equal((JobPhase.Reducing, 3, 1), (job.Phase, job.MapTasks.Count, job.ReduceTasksCompleted));
        Assert.Equal([AttemptStatus.NodeLost, AttemptStatus.Succeeded, AttemptStatus.Killed], job.MapTasks[0].Attempts.Select(a => a.Status));
        Assert.Equal(2, job.MapTasks[0].Accepted);
        Assert.IsType<TopicSplit>(job.MapTasks[2].Plan.Split);
        var reduceRun = Assert.Single(job.ReduceReplied(new ReduceTaskReply("job-1", 1, 1, ReduceRunState.Running, ImmutableDictionary<string, long>.Empty, null),
            Settings.Default(2), DateTimeOffset.UnixEpoch));
        Assert.Equal(new ReduceRunObserved(1, 1, DateTimeOffset.UnixEpoch), reduceRun);

        var started = Assert.IsType<ReduceRunStarted>(read["mr.reduce-run-started.v1"]);
        Assert.Equal([1, 2], started.Request!.Inputs.Select(i => i.Chunks));
        Assert.Null(Assert.IsType<ReduceRunStarted>(read["mr.reduce-run-started.v1+not-started"]).Request);
        var reduced = ReducePartitionState.From(Assert.IsType<ReducePartitionSnapshot>(read["mr.reduce-partition-snapshot.v1"]));
        Assert.True(reduced.Completed);
        Assert.Equal(["apple", "banana"], reduced.Page(null, 10).Items.Select(i => i.Key));
        var index = JobIndexState.FromSnapshot(Assert.IsType<JobIndexSnapshot>(read["mr.job-index-snapshot.v1"]));
        Assert.Equal(["job-2", "job-1"], index.List(10).Select(j => j.JobId));
    }

    [Fact]
    public void A_coordinator_snapshot_holds_the_whole_state()
    {
        var at = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
        var spec = new JobSpec("wordcount", new InputSpec("a b\nc", null, null), null, 2, "{}");
        IActorGridMessage[] events =
        [
            new JobSubmitted(spec, at),
            new JobPlanned([new(new TextSplit(0, 4, 1), null), new(new TextSplit(4, 1, 2), "node-b")], at),
            new MapAttemptStarted(0, 1, "node-a", false, at),
            new MapAttemptStarted(1, 1, "node-b", false, at),
            new MapAttemptFailed(1, 1, AttemptOutcome.Failed, "boom", at.AddSeconds(1)),
            new MapAttemptSucceeded(0, 1, ImmutableDictionary<string, long>.Empty.Add("mapOutputRecords", 2), [1, 0], false, at.AddSeconds(2)),
        ];
        var state = events.Aggregate(JobState.Empty("j"), (s, e) => s.Apply(e));

        var back = JobState.FromSnapshot(state.ToSnapshot());

        // Everything a later event or decision reads comes back (the collections are new, so compare their content).
        Assert.Equal(state.ToSnapshot() with { MapTasks = [], ReduceTasks = [] }, back.ToSnapshot() with { MapTasks = [], ReduceTasks = [] });
        Assert.Equal(state.MapTasks.Select(t => (t.Plan, t.Accepted, t.Failures, t.LastFailureAt, string.Join(",", t.AcceptedChunks), string.Join(",", t.Attempts))),
            back.MapTasks.Select(t => (t.Plan, t.Accepted, t.Failures, t.LastFailureAt, string.Join(",", t.AcceptedChunks), string.Join(",", t.Attempts))));
        Assert.Equal(state.ReduceTasks, back.ReduceTasks);
        Assert.Equal(state.Counters, back.Counters);
    }
}

/// <summary>The job index's decisions, without actors.</summary>
public sealed class JobIndexStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Recording_the_same_summary_again_journals_nothing_and_forgetting_an_unlisted_job_neither()
    {
        var job = Summary("a", 0, JobStatus.Running);
        var state = Fold(JobIndexState.Empty, 10, JobIndexState.Empty.Record(job));

        Assert.Empty(state.Record(job));
        Assert.Single(state.Record(job with { Status = JobStatus.Completed, FinishedAt = T0 }));
        Assert.Empty(state.Forget("other"));
        Assert.Empty(Fold(state, 10, state.Forget("a")).Jobs);
    }

    [Fact]
    public void Beyond_the_most_listed_jobs_the_oldest_finished_are_trimmed_and_named_for_deletion_but_running_ones_stay()
    {
        var before = Fold(JobIndexState.Empty, 3,
        [
            new JobRecorded(Summary("old-running", 0, JobStatus.Running)),
            new JobRecorded(Summary("old-done", 1, JobStatus.Completed)),
            new JobRecorded(Summary("newer-done", 2, JobStatus.Failed)),
        ]);
        IActorGridMessage[] events = [new JobRecorded(Summary("new", 3, JobStatus.Pending))];

        var after = Fold(before, 3, events);

        Assert.Equal(["new", "newer-done", "old-running"], after.List(10).Select(j => j.JobId));
        Assert.Equal(["old-done"], after.TrimmedSince(before, events));
        // A job the index forgot because it was deleted is not deleted again.
        IActorGridMessage[] forget = [new JobForgotten("new")];
        Assert.Empty(Fold(after, 3, forget).TrimmedSince(after, forget));
    }

    [Fact]
    public void Finished_jobs_expire_after_the_retention_and_the_snapshot_holds_every_listed_job()
    {
        var state = Fold(JobIndexState.Empty, 10,
        [
            new JobRecorded(Summary("done", 0, JobStatus.Completed) with { FinishedAt = T0.AddMinutes(1) }),
            new JobRecorded(Summary("running", 1, JobStatus.Running)),
        ]);

        Assert.Empty(state.Expired(T0.AddMinutes(30), TimeSpan.FromHours(1)));
        Assert.Equal(["done"], state.Expired(T0.AddMinutes(61), TimeSpan.FromHours(1)));
        Assert.Equal(state.List(10), JobIndexState.FromSnapshot(state.ToSnapshot()).List(10));
    }

    private static JobSummary Summary(string id, int minute, JobStatus status) =>
        new(id, "wordcount", status, T0.AddMinutes(minute), status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled ? T0.AddMinutes(minute) : null);

    private static JobIndexState Fold(JobIndexState state, int maxJobs, IEnumerable<IActorGridMessage> events) =>
        events.Aggregate(state, (s, e) => s.Apply(e, maxJobs));
}
