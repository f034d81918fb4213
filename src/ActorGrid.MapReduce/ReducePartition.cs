#nullable enable
using System.Collections.Immutable;
using System.Text;
using ActorGrid.Contracts;
using ActorGrid.Entities;
using ActorGrid.MapReduce.Inputs;
using ActorGrid.MapReduce.Jobs;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>
/// One reduce partition of one job (entity <c>{jobId}.{reducer}</c>): stores the map output chunks delivered to it
/// (durably, before acknowledging, so intermediate data survives any node), and when its coordinator says which
/// attempt of each map task was accepted, merges exactly those, sorts by key, reduces, writes the output to the KV
/// store and keeps it for <c>GET /jobs/{id}/result</c>. Its writes go through the grid's one write path
/// (<see cref="DurableEntity{TState, TCommand, TEvent}"/>): chunks that arrive while a write is in flight are
/// stored together in the next one, each acknowledged once durable, and decided against durable state only, so a
/// duplicate chunk is acknowledged only once its first copy is durable.
/// </summary>
/// <remarks>
/// A run starts once its request is journaled; it is complete once its output is computed (and written to KV): the
/// output is a function of the journaled chunks and request, so it is saved as a snapshot afterwards, off the job's
/// critical path, and then the chunks are deleted. A partition that dies before that computes the output again from
/// its journal when it is next asked for it. A partition that moves mid-run starts a new run.
/// </remarks>
internal sealed class ReducePartition : DurableEntity<ReducePartitionState, IActorGridMessage, IActorGridMessage>
{

    private readonly string _entityId;
    private readonly MapReduceServices _services;
    private IActorRef _requester = ActorRefs.Nobody;
    private RunInProgress? _run;
    private bool _outputUnsaved;

    public ReducePartition(string entityId, MapReduceServices? services)
        : base("mr-reduce-" + entityId, ReducePartitionState.Empty, new DurableEntitySettings
        {
            // The one snapshot is the output, saved when a run completes (or the data is discarded); it covers every event.
            SnapshotEvery = 0,
            DeleteEventsOnSnapshot = true,
        })
    {
        _entityId = entityId;
        _services = services ?? MapReduceServices.Of(Context.System);
    }

    protected override string EntityKind => "mapreduce.reduce";

    public static Props Props(string entityId, MapReduceServices? services = null) =>
        Akka.Actor.Props.Create(() => new ReducePartition(entityId, services));

    protected override void HandleCommand(object message)
    {
        if (IsPurging && message is StoreMapOutput or RunReduce or DiscardReduceData or GetResultPage)
        {
            // The job was deleted: like a closed partition, late chunks are acknowledged and dropped; there is no result.
            switch (message)
            {
                case StoreMapOutput late:
                    Sender.Tell(new MapOutputStored(late.EntityId, late.Task, late.Attempt, late.Chunk));
                    break;
                case GetResultPage:
                    Sender.Tell(new ResultPageReply([], false, Ready: false));
                    break;
            }

            return;
        }

        switch (message)
        {
            case StoreMapOutput store:
                Submit(store, Sender);
                break;
            case RunReduce run:
                _requester = Sender;
                Submit(run, Sender);
                break;
            case DiscardReduceData discard:
                Submit(discard, ActorRefs.Nobody);
                break;
            case Reduced reduced:
                HandleReduced(reduced);
                break;
            case OutputWritten written:
                if (_run?.Run == written.Reduced.Run)
                {
                    Complete(written.Reduced);
                }

                break;
            case RunFailed failed:
                if (_run?.Run == failed.Run)
                {
                    _run = null;
                    Log.Warning("Reduce partition {EntityId} run {Run} failed: {Error}", _entityId, failed.Run, failed.Error);
                    Reply(ReduceRunState.Failed, failed.Error);
                }

                break;
            case GetResultPage query:
                AnswerPage(query);
                break;
            case DeleteReduceData:
                StartDeleting();
                break;
            case ReceiveTimeout:
                if (_run is null)
                {
                    Context.Parent.Tell(new Passivate(StopEntity.Instance));
                }

                break;
            case StopEntity:
                StopWhenDrained();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override Decision<ReducePartitionState, IActorGridMessage> Decide(ReducePartitionState state, IActorGridMessage command) => command switch
    {
        StoreMapOutput store => state.OverBudget(store, _services.Settings.ShuffleBudgetBytes) is { } refused
            ? Decision<ReducePartitionState, IActorGridMessage>.Respond(new MapOutputRefused(store.EntityId, store.Task, store.Attempt, store.Chunk, refused))
            : new(state.Store(store), _ => new MapOutputStored(store.EntityId, store.Task, store.Attempt, store.Chunk)),
        RunReduce run => DecideRun(state, run),
        DiscardReduceData when state.IsClosed || _run is not null => Decision<ReducePartitionState, IActorGridMessage>.Respond(null),
        DiscardReduceData => new([new ReduceDataDiscarded()], _ => null),
        _ => throw new ArgumentException($"{command.GetType().Name} is not a reduce partition command", nameof(command)),
    };

    protected override ReducePartitionState Apply(ReducePartitionState state, IActorGridMessage @event) => state.Apply(@event);

    protected override object ErrorReply(IActorGridMessage command, EntityFailure failure, string detail) => command switch
    {
        // The journal will never take this chunk: the attempt fails (and is retried) rather than resend it.
        StoreMapOutput store when failure == EntityFailure.WriteRejected =>
            new MapOutputRefused(store.EntityId, store.Task, store.Attempt, store.Chunk, $"reduce partition {_entityId} could not store the chunk: {detail}"),
        _ => new EntityUnavailable(_entityId, detail),
    };

    protected override object? ToSnapshot(ReducePartitionState state) => state.IsClosed ? state.ToSnapshot() : null;

    protected override ReducePartitionState FromSnapshot(object snapshot) => ReducePartitionState.From((ReducePartitionSnapshot)snapshot);

    protected override void OnRecoveryCompleted() => Context.SetReceiveTimeout(_services.Settings.FinishedJobIdleAfter);

    protected override void OnCommitted(IReadOnlyList<IActorGridMessage> events, long firstSequenceNr)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case ReduceRunStarted { Request: { } request } started when _run is { Started: false } run && run.Run == started.Run:
                    run.Started = true;
                    Compute(request, started.Run, writeOutput: true);
                    break;
                case ReduceDataDiscarded:
                    _outputUnsaved = true;
                    break;
            }
        }

        AfterWrite();
    }

    protected override void OnWriteRejected(Exception cause)
    {
        // A run decided into the refused write never started.
        if (_run is { Started: false })
        {
            _run = null;
        }

        AfterWrite();
    }

    protected override void OnSnapshotSaved(SnapshotMetadata metadata) => AfterWrite();

    protected override void OnPurged()
    {
        State = ReducePartitionState.Empty;
        Context.Parent.Tell(new Passivate(StopEntity.Instance));
    }

    protected override void OnPurgeFailed(object failure)
    {
        // Recovered from the journal, the partition holds what is left; the next DeleteReduceData tries again.
        Log.Warning("Reduce partition {EntityId} could not delete its data: {Failure}", _entityId, failure);
        Context.Parent.Tell(new Passivate(StopEntity.Instance));
    }

    private Decision<ReducePartitionState, IActorGridMessage> DecideRun(ReducePartitionState state, RunReduce command)
    {
        if (state.Completed)
        {
            return Decision<ReducePartitionState, IActorGridMessage>.Respond(Status(command, state, ReduceRunState.Completed, null));
        }

        if (state.Discarded)
        {
            return Decision<ReducePartitionState, IActorGridMessage>.Respond(Status(command, state, ReduceRunState.Failed, "the partition's shuffle data was discarded"));
        }

        if (_run is { Recompute: false })
        {
            return Decision<ReducePartitionState, IActorGridMessage>.Respond(Status(command, state, ReduceRunState.Running, null));
        }

        var run = state.Run + 1;
        if (!_services.Jobs.Contains(command.JobType))
        {
            var error = $"job type '{command.JobType}' is not registered on {SelfNode}";
            return new([new ReduceRunStarted(run, null)], s => Status(command, s, ReduceRunState.Failed, error));
        }

        var missing = state.Missing(command.Inputs);
        if (missing.Count > 0)
        {
            var error = $"{missing.Count} accepted map output chunks are missing (first: task {missing[0].Task} attempt {missing[0].Attempt} chunk {missing[0].Chunk})";
            return new([new ReduceRunStarted(run, null)], s => Status(command, s, ReduceRunState.Failed, error));
        }

        // The run is this incarnation's from now on (a recomputation in progress is superseded); it computes once its
        // start, with its request, is journaled.
        _run = new RunInProgress(run, Recompute: false);
        return new([new ReduceRunStarted(run, command)], s => Status(command, s, ReduceRunState.Running, null));
    }

    private void AnswerPage(GetResultPage query)
    {
        if (!State.Completed)
        {
            // Completed before a restart without its output saved: compute it again from the journal.
            if (_run is null && State.Request is { } request && !State.Discarded)
            {
                _run = new RunInProgress(State.Run, Recompute: true) { Started = true };
                Compute(request, State.Run, writeOutput: false);
            }

            Sender.Tell(new ResultPageReply([], false, Ready: false));
            return;
        }

        var (items, more) = State.Page(query.After, query.Limit);
        Sender.Tell(new ResultPageReply(items, more, Ready: true));
    }

    private void Compute(RunReduce request, int run, bool writeOutput)
    {
        var definition = _services.Jobs.Get(request.JobType);
        var payloads = State.Payloads(request.Inputs);
        var outputPrefix = writeOutput ? request.OutputKvPrefix : null;
        var maxRemoteMessageBytes = _services.Settings.MaxRemoteMessageBytes;
        Task.Run(() =>
        {
            var runner = definition.CreateReduceRunner(JobParameters.Parse(request.Parameters));
            foreach (var payload in payloads)
            {
                runner.Add(payload);
            }

            var (output, counters) = runner.Finish();
            return OversizedOutputProblem(output, maxRemoteMessageBytes) is { } problem
                ? throw new InvalidOperationException(problem)
                : new Reduced(run, output, counters, outputPrefix);
        }).PipeTo(Self, failure: e => new RunFailed(run, Describe(e)));
    }

    private void HandleReduced(Reduced reduced)
    {
        if (_run?.Run != reduced.Run)
        {
            return;
        }

        if (reduced.OutputKvPrefix is null)
        {
            Complete(reduced);
            return;
        }

        var store = _services.KeyValue;
        if (store is null)
        {
            Self.Tell(new RunFailed(reduced.Run, $"output.kvPrefix needs the kv role, which {SelfNode} does not run"));
            return;
        }

        // Written before the run completes: a run that dies in between is repeated, and unconditional puts of the
        // same values are harmless.
        WriteOutputAsync(store, reduced.OutputKvPrefix, reduced.Output, _services.Settings)
            .PipeTo(Self, success: () => new OutputWritten(reduced), failure: e => new RunFailed(reduced.Run, Describe(e)));
    }

    /// <summary>Completes the run with its computed (and written) output; then saves the output.</summary>
    private void Complete(Reduced reduced)
    {
        // Not journaled: the output is a function of the journaled chunks and request; the snapshot saves it.
        State = State.Complete(reduced.Run, reduced.Output, reduced.Counters);
        var recomputed = _run!.Recompute;
        _run = null;
        if (!recomputed)
        {
            Reply(ReduceRunState.Completed, null);
        }

        _outputUnsaved = true;
        AfterWrite();
    }

    /// <summary>Goes on with what waited for the journal to be idle: saving the output.</summary>
    private void AfterWrite()
    {
        if (IsWritingOrSnapshotting)
        {
            return;
        }

        if (_outputUnsaved)
        {
            _outputUnsaved = false;
            SaveSnapshotNow();
        }
    }

    /// <summary>
    /// The job was deleted: everything goes, the output too, once the write or snapshot in flight has landed (one
    /// landing after the deletion would bring data back); the next message finds an empty partition.
    /// </summary>
    private void StartDeleting()
    {
        if (!IsPurging)
        {
            _run = null;
            FailQueued(EntityFailure.NotServing, "the job was deleted");
        }

        PurgeAllData();
    }

    /// <summary>Writes the output under <c>{prefix}{key}</c> in batches (unconditional writes, so a repeated run writes the same values).</summary>
    internal static async Task WriteOutputAsync(IKeyValueStore store, string prefix, IReadOnlyList<ResultItem> output, MapReduceProtocol.Settings settings)
    {
        foreach (var item in output)
        {
            if (OutputKeyProblem(prefix + item.Key) is { } problem)
            {
                throw new InvalidOperationException(problem);
            }
        }

        foreach (var batch in output.Chunk(settings.OutputBatchEntries))
        {
            var entries = batch.Select(i => new KvEntry(prefix + i.Key, Encoding.UTF8.GetBytes(i.Value))).ToList();
            await InputRetry.RunAsync(async ct =>
            {
                await store.PutManyAsync(entries, ct);
                return true;
            }, settings.InputRetryDeadline, CancellationToken.None);
        }
    }

    /// <summary>Why <paramref name="key"/> cannot be a KV key (1–1024 UTF-8 bytes, no control characters), or null.</summary>
    internal static string? OutputKeyProblem(string key)
    {
        var bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes is 0 or > 1024)
        {
            return $"output key '{Shorten(key)}' is {bytes} UTF-8 bytes; KV keys are 1-1024 bytes (write the result without output.kvPrefix)";
        }

        return key.Any(char.IsControl)
            ? $"output key '{Shorten(key)}' contains control characters, which KV keys may not (write the result without output.kvPrefix)"
            : null;
    }

    /// <summary>
    /// Why <paramref name="output"/> cannot be read back page by page — an item larger than <paramref name="maxRemoteMessageBytes"/>
    /// serialized does not fit in one reply between nodes — or null when every item fits.
    /// </summary>
    internal static string? OversizedOutputProblem(IEnumerable<ResultItem> output, long maxRemoteMessageBytes)
    {
        foreach (var item in output)
        {
            if (item.WireSize() is var size && size > maxRemoteMessageBytes)
            {
                return $"the output for key '{Shorten(item.Key)}' is {size} bytes serialized; one result item may take at most {maxRemoteMessageBytes} "
                    + "(the remoting frame, which Kv:MaxValueBytes and Broker:MaxMessageBytes size, less its envelope)";
            }
        }

        return null;
    }

    private static string Shorten(string key) => key.Length > 80 ? key[..80] + "…" : key.ReplaceLineEndings(" ");

    private void Reply(ReduceRunState state, string? error) =>
        _requester.Tell(new ReduceTaskReply(JobIdOf(_entityId), ReducerOf(_entityId), State.Run, state, State.Counters, error));

    private static ReduceTaskReply Status(RunReduce command, ReducePartitionState state, ReduceRunState run, string? error) =>
        new(command.JobId, command.Reducer, state.Run, run, state.Counters, error);

    private string SelfNode => Cluster.Get(Context.System).SelfAddress.ToString();

    internal static string JobIdOf(string entityId) => entityId[..entityId.LastIndexOf('.')];

    internal static int ReducerOf(string entityId) =>
        int.Parse(entityId.AsSpan(entityId.LastIndexOf('.') + 1), provider: System.Globalization.CultureInfo.InvariantCulture);

    private static string Describe(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerExceptions[0]),
        InvalidJobParametersException or InvalidOperationException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private sealed record Reduced(int Run, ResultItem[] Output, ImmutableDictionary<string, long> Counters, string? OutputKvPrefix);

    private sealed record OutputWritten(Reduced Reduced);

    private sealed record RunFailed(int Run, string Error);

    /// <summary>The run this incarnation computes: decided, and started once its start is durable (a recomputation is started at once).</summary>
    private sealed record RunInProgress(int Run, bool Recompute)
    {
        public bool Started { get; set; }
    }
}
