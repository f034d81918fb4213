#nullable enable
using System.Collections.Immutable;
using System.Text;
using ActorGrid.Contracts;
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
/// store and keeps it for <c>GET /jobs/{id}/result</c>.
/// </summary>
/// <remarks>
/// A run is complete once its request is journaled and its output computed (and written to KV): the output is a
/// function of the journaled chunks and request, so it is saved as a snapshot afterwards, off the job's critical
/// path, and then the chunks are deleted. A partition that dies before that computes the output again from its
/// journal when it is next asked for it. A partition that moves mid-run starts a new run.
/// </remarks>
internal sealed class ReducePartition : GroupCommitActor
{
    private readonly string _entityId;
    private readonly MapReduceServices _services;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ReducePartitionState _state = ReducePartitionState.Empty;
    private IActorRef _requester = ActorRefs.Nobody;
    private Reduced? _computed;
    private bool _running;
    private bool _startJournaled;
    private bool _recomputing;
    private bool _deleting;

    public ReducePartition(string entityId, MapReduceServices? services)
    {
        _entityId = entityId;
        _services = services ?? MapReduceServices.Of(Context.System);
        PersistenceId = "mr-reduce-" + entityId;

        Recover<SnapshotOffer>(offer =>
        {
            _state = ReducePartitionState.From((ReducePartitionSnapshot)offer.Snapshot);
            SnapshotRecovered(offer.Metadata.SequenceNr);
        });
        Recover<IActorGridMessage>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => Context.SetReceiveTimeout(_services.Settings.FinishedJobIdleAfter));

        Command<StoreMapOutput>(store =>
        {
            if (_state.OverBudget(store, _services.Settings.ShuffleBudgetBytes) is { } refused)
            {
                Sender.Tell(new MapOutputRefused(store.EntityId, store.Task, store.Attempt, store.Chunk, refused));
                return;
            }

            var sender = Sender;
            Decide(_state.Store(store), () => sender.Tell(new MapOutputStored(store.EntityId, store.Task, store.Attempt, store.Chunk)));
        });
        Command<RunReduce>(HandleRunReduce);
        Command<Reduced>(HandleReduced);
        Command<OutputWritten>(written =>
        {
            if (written.Reduced.Run == _state.Run && _running)
            {
                _computed = written.Reduced;
                TryComplete();
            }
        });
        Command<RunFailed>(failed =>
        {
            if (failed.Run != _state.Run || !_running)
            {
                return;
            }

            _running = false;
            _recomputing = false;
            _log.Warning("Reduce partition {EntityId} run {Run} failed: {Error}", _entityId, failed.Run, failed.Error);
            Reply(ReduceRunState.Failed, failed.Error);
        });
        Command<GetResultPage>(query =>
        {
            if (!_state.Completed)
            {
                // Completed before a restart without its output saved: compute it again from the journal.
                if (!_running && _state.Request is { } request && !_state.Discarded)
                {
                    _recomputing = true;
                    Start(request, _state.Run, writeOutput: false);
                }

                Sender.Tell(new ResultPageReply([], false, Ready: false));
                return;
            }

            var (items, more) = _state.Page(query.After, query.Limit);
            Sender.Tell(new ResultPageReply(items, more, Ready: true));
        });
        Command<DiscardReduceData>(_ =>
        {
            if (!_state.IsClosed && !_running)
            {
                Decide([new ReduceDataDiscarded()], () => SaveSnapshot(_state.ToSnapshot()));
            }
        });
        Command<DeleteReduceData>(_ =>
        {
            // The job was deleted: everything goes, the output too; the next message finds an empty partition.
            _deleting = true;
            _state = ReducePartitionState.Empty;
            _computed = null;
            DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
            DeleteMessages(long.MaxValue);
        });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failed => _log.Warning("Reduce partition {EntityId} could not delete its snapshots: {Error}", _entityId, failed.Cause.Message));
        Command<DeleteMessagesSuccess>(_ =>
        {
            if (_deleting)
            {
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            }
        });
        Command<SaveSnapshotSuccess>(saved =>
        {
            // The snapshot holds everything a closed partition needs; the shuffle chunks in the journal can go.
            if (_state.IsClosed)
            {
                DeleteMessages(saved.Metadata.SequenceNr);
            }
        });
        Command<SaveSnapshotFailure>(failed =>
            _log.Warning("Reduce partition {EntityId} could not save its output (it stays computable from the journal): {Error}", _entityId, failed.Cause.Message));
        Command<DeleteMessagesFailure>(failed => _log.Warning("Reduce partition {EntityId} could not delete its shuffle events: {Error}", _entityId, failed.Cause.Message));
        Command<ReceiveTimeout>(_ =>
        {
            if (!_running)
            {
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            }
        });
    }

    public override string PersistenceId { get; }

    protected override string EntityKind => "mapreduce.reduce";

    protected override int SnapshotEvery => 0;

    public static Props Props(string entityId, MapReduceServices? services = null) =>
        Akka.Actor.Props.Create(() => new ReducePartition(entityId, services));

    protected override object SnapshotState() => _state.ToSnapshot();

    private void HandleRunReduce(RunReduce command)
    {
        _requester = Sender;
        if (_state.Completed)
        {
            Sender.Tell(Status(command, ReduceRunState.Completed, null));
            return;
        }

        if (_state.Discarded)
        {
            Sender.Tell(Status(command, ReduceRunState.Failed, "the partition's shuffle data was discarded"));
            return;
        }

        if (_running && !_recomputing)
        {
            Sender.Tell(Status(command, ReduceRunState.Running, null));
            return;
        }

        var run = _state.Run + 1;
        var missing = _state.Missing(command.Inputs);
        if (!_services.Jobs.Contains(command.JobType))
        {
            Decide([new ReduceRunStarted(run, null)], () => Reply(ReduceRunState.Failed, $"job type '{command.JobType}' is not registered on {SelfNode}"));
            return;
        }

        if (missing.Count > 0)
        {
            var first = missing[0];
            Decide([new ReduceRunStarted(run, null)], () => Reply(ReduceRunState.Failed,
                $"{missing.Count} accepted map output chunks are missing (first: task {first.Task} attempt {first.Attempt} chunk {first.Chunk})"));
            return;
        }

        // The run's start (with its request) is journaled while it computes.
        _recomputing = false;
        _startJournaled = false;
        Decide([new ReduceRunStarted(run, command)], () =>
        {
            _startJournaled = true;
            Reply(ReduceRunState.Running, null);
            TryComplete();
        });
        Start(command, run, writeOutput: true);
    }

    private void Start(RunReduce request, int run, bool writeOutput)
    {
        _running = true;
        _computed = null;
        var definition = _services.Jobs.Get(request.JobType);
        var payloads = _state.Payloads(request.Inputs);
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
        if (reduced.Run != _state.Run || !_running)
        {
            return;
        }

        if (reduced.OutputKvPrefix is null)
        {
            _computed = reduced;
            TryComplete();
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

    /// <summary>Completes the run once its request is journaled and its output computed; then saves the output.</summary>
    private void TryComplete()
    {
        if (_computed is not { } reduced || (!_startJournaled && !_recomputing))
        {
            return;
        }

        _state = _state.Complete(reduced.Run, reduced.Output, reduced.Counters);
        _computed = null;
        _running = false;
        if (!_recomputing)
        {
            Reply(ReduceRunState.Completed, null);
        }

        _recomputing = false;
        SaveSnapshot(_state.ToSnapshot());
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

    private void Decide(IReadOnlyList<IActorGridMessage> events, Action after)
    {
        foreach (var e in events)
        {
            _state = _state.Apply(e);
        }

        Commit(events, after);
    }

    private void Reply(ReduceRunState state, string? error) =>
        _requester.Tell(new ReduceTaskReply(JobIdOf(_entityId), ReducerOf(_entityId), _state.Run, state, _state.Counters, error));

    private ReduceTaskReply Status(RunReduce command, ReduceRunState state, string? error) =>
        new(command.JobId, command.Reducer, _state.Run, state, _state.Counters, error);

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
}
