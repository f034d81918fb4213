#nullable enable
using System.Collections.Immutable;
using System.Text.Json.Serialization;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Serialization;

namespace ActorGrid.MapReduce;

/// <summary>
/// The MapReduce role's protocol: the job definition, commands and replies of job coordinators, map workers, reduce
/// partitions and the job index, the events they journal, and the role's settings. Manifests are part of the
/// journal format: never rename one; add a new versioned type instead.
/// </summary>
public static class MapReduceProtocol
{
    /// <summary>The cluster role name.</summary>
    public const string RoleName = "mapreduce";

    /// <summary>Sharding type of job coordinators (entity id = job id; remembered, so a job resumes after takeover).</summary>
    public const string CoordinatorTypeName = "mapreduce-job";

    /// <summary>Sharding type of reduce partitions (entity id = <c>{jobId}.{reducer}</c>).</summary>
    public const string ReducerTypeName = "mapreduce-reduce";

    /// <summary>Sharding type of the job index (one entity, <see cref="IndexEntityId"/>).</summary>
    public const string IndexTypeName = "mapreduce-index";

    /// <summary>The job index's entity id.</summary>
    public const string IndexEntityId = "jobs";

    /// <summary>Name of the per-node map worker, at <c>/user/mapreduce-worker</c> on every node hosting the role.</summary>
    public const string WorkerActorName = "mapreduce-worker";

    // ---- Job definition -----------------------------------------------------------------------------------------

    /// <summary>Where a job reads: exactly one of the three is set.</summary>
    /// <param name="Text">Inline text; one record per line.</param>
    /// <param name="KvPrefix">Every live KV key with this prefix; one record per key.</param>
    /// <param name="Topic">Every message of this broker topic present when the job is planned; one record per message.</param>
    public sealed record InputSpec(string? Text, string? KvPrefix, string? Topic)
    {
        /// <summary>"text", "kvPrefix" or "topic".</summary>
        [JsonIgnore]
        public string Kind => Text is not null ? "text" : KvPrefix is not null ? "kvPrefix" : "topic";

        /// <summary>This input without the inline text (for messages that do not need it).</summary>
        public InputSpec WithoutText() => Text is null ? this : this with { Text = "" };
    }

    /// <summary>A submitted job.</summary>
    /// <param name="Type">The registered job type name.</param>
    /// <param name="Input">Where it reads.</param>
    /// <param name="OutputKvPrefix">Where the output is also written in the KV store (<c>{prefix}{key}</c>); null: only the job result.</param>
    /// <param name="Reducers">Number of reduce partitions.</param>
    /// <param name="Parameters">The job type's parameters, a JSON object.</param>
    public sealed record JobSpec(string Type, InputSpec Input, string? OutputKvPrefix, int Reducers, string Parameters);

    /// <summary>The part of the input one map task reads.</summary>
    [JsonPolymorphic(TypeDiscriminatorPropertyName = "$split")]
    [JsonDerivedType(typeof(TextSplit), "text")]
    [JsonDerivedType(typeof(KvPartitionsSplit), "kv")]
    [JsonDerivedType(typeof(TopicSplit), "topic")]
    public abstract record InputSplit;

    /// <summary>Whole lines of the inline text: <paramref name="Length"/> chars from <paramref name="Start"/>, the first being line <paramref name="FirstLine"/>.</summary>
    public sealed record TextSplit(int Start, int Length, long FirstLine) : InputSplit;

    /// <summary>The input keys that live in some KV partitions (all owned by one node when the job was planned).</summary>
    public sealed record KvPartitionsSplit(int[] Partitions) : InputSplit;

    /// <summary>Offsets [<paramref name="FromOffset"/>, <paramref name="ToOffset"/>) of one topic partition.</summary>
    public sealed record TopicSplit(string Topic, int Partition, long FromOffset, long ToOffset) : InputSplit;

    /// <summary>One planned map task: its split and the node that holds its data, if any.</summary>
    public sealed record MapTaskPlan(InputSplit Split, string? PreferredNode);

    /// <summary>The state of a job as users see it.</summary>
    public enum JobStatus
    {
        /// <summary>Submitted; its input is being planned.</summary>
        Pending,

        /// <summary>Map or reduce tasks are running.</summary>
        Running,

        /// <summary>Every reduce task finished; the result is readable.</summary>
        Completed,

        /// <summary>A task failed on every attempt (see the error).</summary>
        Failed,

        /// <summary>Cancelled by a user.</summary>
        Cancelled,
    }

    // ---- Job coordinator: commands and replies (entity id = job id) ---------------------------------------------

    /// <summary>Submits a job. Re-submitting the same spec under the same id is accepted again (idempotent).</summary>
    public sealed record SubmitJob(string EntityId, JobSpec Spec) : IWithEntityId, IActorGridMessage;

    /// <summary>How a submission ended.</summary>
    public enum SubmitStatus
    {
        /// <summary>Accepted and journaled.</summary>
        Accepted,

        /// <summary>A different job already has this id.</summary>
        Conflict,
    }

    /// <summary>The answer to <see cref="SubmitJob"/>.</summary>
    public sealed record SubmitJobResult(SubmitStatus Status, string? Error = null) : IActorGridMessage;

    /// <summary>Asks for a job's status.</summary>
    public sealed record GetJobStatus(string EntityId) : IWithEntityId, IActorGridMessage;

    /// <summary>A job's status; <paramref name="Found"/> false when there is no such job.</summary>
    public sealed record JobStatusReply(
        string JobId,
        bool Found,
        string Type,
        JobStatus Status,
        DateTimeOffset? SubmittedAt,
        DateTimeOffset? FinishedAt,
        int MapTasks,
        int MapTasksCompleted,
        int ReduceTasks,
        int ReduceTasksCompleted,
        ImmutableDictionary<string, long> Counters,
        string? Error,
        string? OutputKvPrefix,
        string Coordinator) : IActorGridMessage;

    /// <summary>Cancels a job: no further tasks start, running map attempts are aborted.</summary>
    public sealed record CancelJob(string EntityId) : IWithEntityId, IActorGridMessage;

    /// <summary>How a cancellation ended.</summary>
    public enum CancelStatus
    {
        /// <summary>The job is (now) cancelled.</summary>
        Cancelled,

        /// <summary>The job had already completed or failed.</summary>
        AlreadyFinished,

        /// <summary>No such job.</summary>
        NotFound,
    }

    /// <summary>The answer to <see cref="CancelJob"/>.</summary>
    public sealed record CancelJobResult(CancelStatus Status, JobStatusReply Job) : IActorGridMessage;

    /// <summary>
    /// Deletes a finished job: its coordinator's journal and snapshots, its reduce partitions' data and its index
    /// entry (<c>DELETE /jobs/{id}</c> on a finished job, and retention). The output written to KV stays: it is the
    /// user's data.
    /// </summary>
    public sealed record DeleteJob(string EntityId) : IWithEntityId, IActorGridMessage;

    /// <summary>How a deletion ended.</summary>
    public enum DeleteStatus
    {
        /// <summary>The job is deleted; <see cref="DeleteJobResult.Job"/> is its last status.</summary>
        Deleted,

        /// <summary>The job is pending or running (cancel it first).</summary>
        NotFinished,

        /// <summary>No such job.</summary>
        NotFound,

        /// <summary>The journal refused the deletion; retry.</summary>
        Failed,
    }

    /// <summary>The answer to <see cref="DeleteJob"/>.</summary>
    public sealed record DeleteJobResult(DeleteStatus Status, JobStatusReply Job) : IActorGridMessage;

    /// <summary>
    /// A map attempt finished and every reduce partition durably holds its output (<paramref name="Chunks"/>[r] chunks
    /// for reducer r). Resent until acknowledged.
    /// </summary>
    public sealed record MapTaskSucceeded(
        string EntityId, int Task, int Attempt, string Node, ImmutableDictionary<string, long> Counters, int[] Chunks, bool DataLocal)
        : IWithEntityId, IActorGridMessage;

    /// <summary>
    /// A map attempt has computed its output and is now delivering it: it no longer needs a CPU slot, so the
    /// coordinator may start another attempt on its node. Not journaled; a lost one only delays scheduling.
    /// </summary>
    public sealed record MapTaskComputed(string EntityId, int Task, int Attempt) : IWithEntityId, IActorGridMessage;

    /// <summary>A map attempt failed. Resent until acknowledged.</summary>
    public sealed record MapTaskFailed(string EntityId, int Task, int Attempt, string Error) : IWithEntityId, IActorGridMessage;

    /// <summary>The coordinator has recorded a task report; <paramref name="JobActive"/> false when the job no longer runs.</summary>
    public sealed record TaskReportAcknowledged(string JobId, int Task, int Attempt, bool JobActive) : IActorGridMessage;

    /// <summary>How a reduce partition's run stands.</summary>
    public enum ReduceRunState
    {
        /// <summary>Reducing.</summary>
        Running,

        /// <summary>Reduced and written; the partition's result is readable.</summary>
        Completed,

        /// <summary>The run failed (see the error); the next <see cref="RunReduce"/> starts a new run.</summary>
        Failed,
    }

    /// <summary>A reduce partition's answer to <see cref="RunReduce"/>, addressed to the job's coordinator.</summary>
    public sealed record ReduceTaskReply(
        string EntityId, int Reducer, int Run, ReduceRunState State, ImmutableDictionary<string, long> Counters, string? Error)
        : IWithEntityId, IActorGridMessage;

    // ---- Job coordinator: events and snapshot -------------------------------------------------------------------

    /// <summary>A job was accepted.</summary>
    public sealed record JobSubmitted(JobSpec Spec, DateTimeOffset At) : IActorGridMessage;

    /// <summary>The job's input was split into map tasks.</summary>
    public sealed record JobPlanned(MapTaskPlan[] Tasks, DateTimeOffset At) : IActorGridMessage;

    /// <summary>A map attempt was sent to the worker on <paramref name="Node"/>.</summary>
    public sealed record MapAttemptStarted(int Task, int Attempt, string Node, bool Speculative, DateTimeOffset At) : IActorGridMessage;

    /// <summary>A map attempt's output was accepted for its task (exactly one per task).</summary>
    public sealed record MapAttemptSucceeded(
        int Task, int Attempt, ImmutableDictionary<string, long> Counters, int[] Chunks, bool DataLocal, DateTimeOffset At) : IActorGridMessage;

    /// <summary>Why an attempt ended without its output being accepted.</summary>
    public enum AttemptOutcome
    {
        /// <summary>The task reported an error.</summary>
        Failed,

        /// <summary>It ran longer than the task timeout.</summary>
        TimedOut,

        /// <summary>Its node left or was downed.</summary>
        NodeLost,
    }

    /// <summary>A map attempt ended without success.</summary>
    public sealed record MapAttemptFailed(int Task, int Attempt, AttemptOutcome Outcome, string Reason, DateTimeOffset At) : IActorGridMessage;

    /// <summary>A running map attempt was abandoned: another attempt of its task won, or the job was cancelled.</summary>
    public sealed record MapAttemptKilled(int Task, int Attempt, DateTimeOffset At) : IActorGridMessage;

    /// <summary>Every map task has an accepted attempt: the reduce partitions may reduce.</summary>
    public sealed record ReducePhaseStarted(DateTimeOffset At) : IActorGridMessage;

    /// <summary>A reduce partition started run <paramref name="Run"/>.</summary>
    public sealed record ReduceRunObserved(int Reducer, int Run, DateTimeOffset At) : IActorGridMessage;

    /// <summary>A reduce partition completed.</summary>
    public sealed record ReduceTaskCompleted(int Reducer, int Run, ImmutableDictionary<string, long> Counters, DateTimeOffset At) : IActorGridMessage;

    /// <summary>A reduce partition's run failed.</summary>
    public sealed record ReduceRunFailed(int Reducer, int Run, string Error, DateTimeOffset At) : IActorGridMessage;

    /// <summary>Every reduce partition completed.</summary>
    public sealed record JobCompleted(DateTimeOffset At) : IActorGridMessage;

    /// <summary>The job failed and runs no more tasks.</summary>
    public sealed record JobFailed(string Error, DateTimeOffset At) : IActorGridMessage;

    /// <summary>The job was cancelled.</summary>
    public sealed record JobCancelled(DateTimeOffset At) : IActorGridMessage;

    /// <summary>
    /// A coordinator's state as persisted: its own versioned type (stored under the manifest the state record itself
    /// was once stored under, with the same shape), so <see cref="JobState"/> can change without breaking snapshots.
    /// </summary>
    public sealed record JobSnapshot(
        string JobId,
        JobPhase Phase,
        JobSpec? Spec,
        DateTimeOffset? SubmittedAt,
        DateTimeOffset? FinishedAt,
        JobSnapshotTask[] MapTasks,
        JobSnapshotReducer[] ReduceTasks,
        ImmutableDictionary<string, long> Counters,
        string? Error) : IActorGridMessage;

    /// <summary>One map task in a <see cref="JobSnapshot"/>.</summary>
    public sealed record JobSnapshotTask(
        MapTaskPlan Plan, JobSnapshotAttempt[] Attempts, int? Accepted, int[] AcceptedChunks, int Failures, DateTimeOffset? LastFailureAt);

    /// <summary>One map attempt in a <see cref="JobSnapshot"/>.</summary>
    public sealed record JobSnapshotAttempt(int Number, string Node, bool Speculative, DateTimeOffset StartedAt, AttemptStatus Status, DateTimeOffset? EndedAt);

    /// <summary>One reduce partition in a <see cref="JobSnapshot"/>.</summary>
    public sealed record JobSnapshotReducer(int Run, bool Completed, int Failures, int FailedRun);

    /// <summary>
    /// The answer of a coordinator, reduce partition or the job index that could not journal a command: the journal
    /// refused or failed the write, or the node no longer owns the entity. Nothing the command asked for is promised;
    /// send it again (workers resend on their timer, the HTTP API answers 503).
    /// </summary>
    public sealed record EntityUnavailable(string EntityId, string Reason) : IActorGridMessage;

    // ---- Map workers (per node, /user/mapreduce-worker) --------------------------------------------------------

    /// <summary>Runs one map attempt: read the split, map, combine, partition, deliver to the reduce partitions, report.</summary>
    public sealed record RunMapTask(
        string JobId,
        int Task,
        int Attempt,
        string JobType,
        string Parameters,
        InputSpec Input,
        InputSplit Split,
        string? SplitText,
        int Reducers) : IActorGridMessage;

    /// <summary>Stops one map attempt if it still runs.</summary>
    public sealed record AbortMapAttempt(string JobId, int Task, int Attempt) : IActorGridMessage;

    /// <summary>Stops every map attempt of a job on this node.</summary>
    public sealed record AbortJob(string JobId) : IActorGridMessage;

    // ---- Reduce partitions (entity id = {jobId}.{reducer}) ------------------------------------------------------

    /// <summary>One chunk of one map attempt's output for this partition. Stored durably before the answer.</summary>
    public sealed record StoreMapOutput(string EntityId, int Task, int Attempt, int Chunk, byte[] Payload) : IWithEntityId, IActorGridMessage;

    /// <summary>The chunk is durable (also the answer to a duplicate).</summary>
    public sealed record MapOutputStored(string EntityId, int Task, int Attempt, int Chunk) : IActorGridMessage;

    /// <summary>The reduce partition did not store a chunk: it would pass its memory budget. The attempt fails with <paramref name="Reason"/>.</summary>
    public sealed record MapOutputRefused(string EntityId, int Task, int Attempt, int Chunk, string Reason) : IActorGridMessage;

    /// <summary>The accepted attempt of one map task and how many chunks it delivered to this partition.</summary>
    public sealed record AcceptedMapOutput(int Task, int Attempt, int Chunks);

    /// <summary>
    /// Reduce the accepted map outputs (sort by key, reduce, write to the KV store). Idempotent: a completed partition
    /// answers Completed, a running one Running; the coordinator repeats it until Completed.
    /// </summary>
    public sealed record RunReduce(
        string EntityId,
        string JobId,
        int Reducer,
        string JobType,
        string Parameters,
        string? OutputKvPrefix,
        AcceptedMapOutput[] Inputs) : IWithEntityId, IActorGridMessage;

    /// <summary>One page of a completed partition's output: keys after <paramref name="After"/>, in order.</summary>
    public sealed record GetResultPage(string EntityId, string? After, int Limit) : IWithEntityId, IActorGridMessage;

    /// <summary>One output pair.</summary>
    public sealed record ResultItem(string Key, string Value)
    {
        /// <summary>At least the bytes the item takes in a serialized <see cref="ResultPageReply"/> (result pages are cut by this).</summary>
        public long WireSize() => ActorGridSerializer.JsonStringBytes(Key) + ActorGridSerializer.JsonStringBytes(Value) + 32;
    }

    /// <summary>A page of a partition's output; <paramref name="More"/> when it has keys after the page.</summary>
    public sealed record ResultPageReply(ResultItem[] Items, bool More, bool Ready) : IActorGridMessage;

    /// <summary>Drops the partition's shuffle data (the job was cancelled or failed).</summary>
    public sealed record DiscardReduceData(string EntityId) : IWithEntityId, IActorGridMessage;

    /// <summary>Deletes everything the partition stored, output included, and stops it (the job was deleted).</summary>
    public sealed record DeleteReduceData(string EntityId) : IWithEntityId, IActorGridMessage;

    /// <summary>A chunk of map output was stored.</summary>
    public sealed record MapOutputReceived(int Task, int Attempt, int Chunk, byte[] Payload) : IActorGridMessage;

    /// <summary>
    /// A reduce run started for <paramref name="Request"/> (null when the run could not start: an unknown job type,
    /// missing chunks). The output is a function of the journaled chunks and this request, so a partition that
    /// dies before saving its output computes it again from its journal.
    /// </summary>
    public sealed record ReduceRunStarted(int Run, RunReduce? Request) : IActorGridMessage;

    /// <summary>The shuffle data was dropped.</summary>
    public sealed record ReduceDataDiscarded : IActorGridMessage;

    /// <summary>
    /// A completed (or discarded) reduce partition: its sorted output and counters. Saving it is what completes a
    /// run — the output is journaled once, here, and the shuffle chunks before it are then deleted.
    /// </summary>
    public sealed record ReducePartitionSnapshot(int Run, ResultItem[] Output, ImmutableDictionary<string, long> Counters, bool Discarded) : IActorGridMessage;

    // ---- Job index ----------------------------------------------------------------------------------------------

    /// <summary>A job as listed by <c>GET /jobs</c>.</summary>
    public sealed record JobSummary(string JobId, string Type, JobStatus Status, DateTimeOffset SubmittedAt, DateTimeOffset? FinishedAt);

    /// <summary>Records (or updates) a job in the index.</summary>
    public sealed record RecordJob(string EntityId, JobSummary Job) : IWithEntityId, IActorGridMessage;

    /// <summary>Lists the most recently submitted jobs.</summary>
    public sealed record ListJobs(string EntityId, int Limit) : IWithEntityId, IActorGridMessage;

    /// <summary>Jobs, newest first.</summary>
    public sealed record JobListReply(JobSummary[] Jobs) : IActorGridMessage;

    /// <summary>A job was recorded or updated.</summary>
    public sealed record JobRecorded(JobSummary Job) : IActorGridMessage;

    /// <summary>The answer to a <see cref="RecordJob"/> once the index holds it durably.</summary>
    public sealed record JobIndexed(string JobId) : IActorGridMessage;

    /// <summary>Looks one job up in the index (the answer lists it, or nothing): the HTTP edge asks before it wakes a coordinator.</summary>
    public sealed record FindJob(string EntityId, string JobId) : IWithEntityId, IActorGridMessage;

    /// <summary>Removes a deleted job from the index.</summary>
    public sealed record ForgetJob(string EntityId, string JobId) : IWithEntityId, IActorGridMessage;

    /// <summary>A deleted job was removed from the index.</summary>
    public sealed record JobForgotten(string JobId) : IActorGridMessage;

    /// <summary>The whole index.</summary>
    public sealed record JobIndexSnapshot(JobSummary[] Jobs) : IActorGridMessage;

    /// <summary>Registers every wire and persisted type of the role.</summary>
    public static void RegisterManifests(ManifestRegistry manifests) => manifests
        .Add<SubmitJob>("mr.submit-job.v1")
        .Add<SubmitJobResult>("mr.submit-job-result.v1")
        .Add<GetJobStatus>("mr.get-job-status.v1")
        .Add<JobStatusReply>("mr.job-status.v1")
        .Add<CancelJob>("mr.cancel-job.v1")
        .Add<CancelJobResult>("mr.cancel-job-result.v1")
        .Add<MapTaskSucceeded>("mr.map-task-succeeded.v1")
        .Add<MapTaskComputed>("mr.map-task-computed.v1")
        .Add<MapTaskFailed>("mr.map-task-failed.v1")
        .Add<TaskReportAcknowledged>("mr.task-report-ack.v1")
        .Add<ReduceTaskReply>("mr.reduce-task-reply.v1")
        .Add<JobSubmitted>("mr.job-submitted.v1")
        .Add<JobPlanned>("mr.job-planned.v1")
        .Add<MapAttemptStarted>("mr.map-attempt-started.v1")
        .Add<MapAttemptSucceeded>("mr.map-attempt-succeeded.v1")
        .Add<MapAttemptFailed>("mr.map-attempt-failed.v1")
        .Add<MapAttemptKilled>("mr.map-attempt-killed.v1")
        .Add<ReducePhaseStarted>("mr.reduce-phase-started.v1")
        .Add<ReduceRunObserved>("mr.reduce-run-observed.v1")
        .Add<ReduceTaskCompleted>("mr.reduce-task-completed.v1")
        .Add<ReduceRunFailed>("mr.reduce-run-failed.v1")
        .Add<JobCompleted>("mr.job-completed.v1")
        .Add<JobFailed>("mr.job-failed.v1")
        .Add<JobCancelled>("mr.job-cancelled.v1")
        .Add<JobSnapshot>("mr.job-state.v1")
        .Add<EntityUnavailable>("mr.entity-unavailable.v1")
        .Add<RunMapTask>("mr.run-map-task.v1")
        .Add<AbortMapAttempt>("mr.abort-map-attempt.v1")
        .Add<AbortJob>("mr.abort-job.v1")
        .Add<StoreMapOutput>("mr.store-map-output.v1")
        .Add<MapOutputStored>("mr.map-output-stored.v1")
        .Add<MapOutputRefused>("mr.map-output-refused.v1")
        .Add<RunReduce>("mr.run-reduce.v1")
        .Add<GetResultPage>("mr.get-result-page.v1")
        .Add<ResultPageReply>("mr.result-page.v1")
        .Add<DiscardReduceData>("mr.discard-reduce-data.v1")
        .Add<MapOutputReceived>("mr.map-output-received.v1")
        .Add<ReduceRunStarted>("mr.reduce-run-started.v1")
        .Add<ReduceDataDiscarded>("mr.reduce-data-discarded.v1")
        .Add<ReducePartitionSnapshot>("mr.reduce-partition-snapshot.v1")
        .Add<RecordJob>("mr.record-job.v1")
        .Add<ListJobs>("mr.list-jobs.v1")
        .Add<JobListReply>("mr.job-list.v1")
        .Add<JobRecorded>("mr.job-recorded.v1")
        .Add<JobIndexSnapshot>("mr.job-index-snapshot.v1")
        .Add<DeleteJob>("mr.delete-job.v1")
        .Add<DeleteJobResult>("mr.delete-job-result.v1")
        .Add<DeleteReduceData>("mr.delete-reduce-data.v1")
        .Add<ForgetJob>("mr.forget-job.v1")
        .Add<JobForgotten>("mr.job-forgotten.v1")
        .Add<JobIndexed>("mr.job-indexed.v1")
        .Add<FindJob>("mr.find-job.v1");

    /// <summary>The role's settings (immutable; adjust with <c>with</c>).</summary>
    /// <param name="MapSlotsPerNode">Most map attempts of one job computing at once on one node (attempts delivering their output do not count).</param>
    /// <param name="MapPrefetchPerNode">Map attempts of one job queued at a node's worker beyond its slots, so a slot is refilled at once rather than after a round trip to the coordinator.</param>
    /// <param name="KvSplitsPerNode">KV input is cut into about this many map tasks per node owning partitions (each task reads whole partitions of one owner). Fewer, larger tasks shuffle less (each combines more); more balance better and lose less to a crash.</param>
    /// <param name="WorkerConcurrency">Most map attempts (of all jobs) a node's worker computes at once; the rest queue.</param>
    /// <param name="MaxAttempts">Failed or timed-out attempts of one task before the job fails (lost nodes do not count).</param>
    /// <param name="RetryBackoff">Wait before re-running a failed task; doubles per failure up to 8×.</param>
    /// <param name="TaskTimeout">A map attempt running longer than this is given up and retried.</param>
    /// <param name="SpeculativeAfterFactor">A running attempt slower than this many times the median finished attempt gets a speculative copy.</param>
    /// <param name="SpeculativeMinRuntime">No speculative copy of an attempt younger than this.</param>
    /// <param name="Tick">How often coordinators check timeouts, lost nodes, stragglers and free slots.</param>
    /// <param name="ReducePingInterval">How often a coordinator repeats <see cref="RunReduce"/> to unfinished reduce partitions.</param>
    /// <param name="ReportResendInterval">How often workers repeat unanswered shuffle chunks and task reports.</param>
    /// <param name="TextSplitChars">Target size of one split of inline text.</param>
    /// <param name="MaxTextChars">Largest inline text input (it must also fit, as JSON, in one remoting frame: it travels to the job's coordinator in one message).</param>
    /// <param name="TopicSplitRecords">Most topic messages in one split.</param>
    /// <param name="ShuffleChunkBytes">Largest serialized chunk of map output sent to one reduce partition.</param>
    /// <param name="DefaultReducers">Reduce partitions when the request does not say.</param>
    /// <param name="MaxReducers">Most reduce partitions a job may ask for.</param>
    /// <param name="InputRetryDeadline">How long a map attempt retries reading its input (an owner moving) before it fails.</param>
    /// <param name="OutputBatchEntries">Entries per KV write of the output.</param>
    /// <param name="AskTimeout">How long an HTTP request waits for a coordinator or reduce partition.</param>
    /// <param name="SnapshotEvery">Coordinator snapshot interval in events.</param>
    /// <param name="FinishedJobIdleAfter">A finished job's coordinator and partitions stop after this long without requests.</param>
    /// <param name="MaxListedJobs">Most jobs the index keeps (oldest finished ones are forgotten first).</param>
    public sealed record Settings(
        int MapSlotsPerNode,
        int MapPrefetchPerNode,
        int KvSplitsPerNode,
        int WorkerConcurrency,
        int MaxAttempts,
        TimeSpan RetryBackoff,
        TimeSpan TaskTimeout,
        double SpeculativeAfterFactor,
        TimeSpan SpeculativeMinRuntime,
        TimeSpan Tick,
        TimeSpan ReducePingInterval,
        TimeSpan ReportResendInterval,
        int TextSplitChars,
        int MaxTextChars,
        int TopicSplitRecords,
        int ShuffleChunkBytes,
        int DefaultReducers,
        int MaxReducers,
        TimeSpan InputRetryDeadline,
        int OutputBatchEntries,
        TimeSpan AskTimeout,
        int SnapshotEvery,
        TimeSpan FinishedJobIdleAfter,
        int MaxListedJobs)
    {
        /// <summary>Largest page of <c>GET /jobs/{id}/result</c>.</summary>
        public const int MaxResultLimit = 1000;

        /// <summary>A finished job is deleted this long after it finished (<c>MapReduce:JobRetention</c>).</summary>
        public TimeSpan JobRetention { get; init; } = TimeSpan.FromHours(24);

        /// <summary>Most bytes of map output one reduce partition holds; a job that sends more fails with a clear error.</summary>
        public long ShuffleBudgetBytes { get; init; } = 256L * 1024 * 1024;

        /// <summary>About the most bytes one map attempt's output may take in memory; beyond it the attempt fails.</summary>
        public long MapOutputBudgetBytes { get; init; } = 256L * 1024 * 1024;

        /// <summary>Most jobs pending or running at once; a submission beyond it is refused with 503 and Retry-After.</summary>
        public int MaxActiveJobs { get; init; } = 100;

        /// <summary>Page size of <c>GET /jobs/{id}/result</c> without <c>limit</c>.</summary>
        public const int DefaultResultLimit = 100;

        /// <summary>
        /// The most serialized bytes (<see cref="ResultItem.WireSize"/>) of one reduce partition's page (it crosses the
        /// network); an item larger than this comes back alone.
        /// </summary>
        public const int ResultPageBytes = 256 * 1024;

        /// <summary>
        /// The largest serialized reply between nodes (the remoting frame less the envelope). A reduce output item
        /// larger than this could never be read back, so the reduce run that produces it fails with a clear error.
        /// </summary>
        public long MaxRemoteMessageBytes { get; init; } = ActorGridHocon.MaxRemoteMessageBytes(new ActorGridOptions());

        /// <summary>The defaults for a machine with <paramref name="processors"/> cores.</summary>
        public static Settings Default(int processors) => Create(new ActorGridOptions(), processors);

        /// <summary>Settings from the node options (<c>ActorGrid:MapReduce</c>, one key per setting) on a machine with <paramref name="processors"/> cores.</summary>
        public static Settings Create(ActorGridOptions options, int processors)
        {
            var mr = options.MapReduce;
            var cores = Math.Max(2, processors);
            return new(
                MapSlotsPerNode: mr.MapSlotsPerNode ?? cores,
                MapPrefetchPerNode: mr.MapPrefetchPerNode ?? cores,
                KvSplitsPerNode: mr.KvSplitsPerNode ?? 2 * cores,
                WorkerConcurrency: mr.WorkerConcurrency ?? cores,
                MaxAttempts: mr.MaxAttempts,
                RetryBackoff: mr.RetryBackoff,
                TaskTimeout: mr.TaskTimeout,
                SpeculativeAfterFactor: mr.SpeculativeAfterFactor,
                SpeculativeMinRuntime: mr.SpeculativeMinRuntime,
                Tick: mr.Tick,
                ReducePingInterval: mr.ReducePingInterval,
                ReportResendInterval: mr.ReportResendInterval,
                TextSplitChars: mr.TextSplitChars,
                MaxTextChars: mr.MaxTextChars,
                TopicSplitRecords: mr.TopicSplitRecords,
                ShuffleChunkBytes: mr.ShuffleChunkBytes,
                DefaultReducers: mr.DefaultReducers,
                MaxReducers: mr.MaxReducers,
                InputRetryDeadline: mr.InputRetryDeadline,
                OutputBatchEntries: mr.OutputBatchEntries,
                AskTimeout: mr.AskTimeout,
                SnapshotEvery: options.Persistence.SnapshotEvery,
                FinishedJobIdleAfter: mr.FinishedJobIdleAfter,
                MaxListedJobs: mr.MaxListedJobs)
            {
                JobRetention = mr.JobRetention,
                MaxRemoteMessageBytes = ActorGridHocon.MaxRemoteMessageBytes(options),
            };
        }
    }
}
