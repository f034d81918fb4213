#nullable enable
using ActorGrid.MapReduce.Execution;
using ActorGrid.MapReduce.Inputs;
using ActorGrid.MapReduce.Jobs;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>
/// A node's map worker (<c>/user/mapreduce-worker</c>): runs the map attempts coordinators send to this node, each in
/// a <see cref="MapAttemptRunner"/> child. At most <see cref="MapReduceProtocol.Settings.WorkerConcurrency"/> compute at
/// once (the rest queue); attempts delivering their output do not count.
/// </summary>
internal sealed class MapReduceWorker : ReceiveActor
{
    private readonly Dictionary<(string Job, int Task, int Attempt), IActorRef> _running = [];
    private readonly HashSet<IActorRef> _computing = [];
    private readonly LinkedList<RunMapTask> _queue = new();
    private long _started;

    public MapReduceWorker(MapReduceServices services)
    {
        var node = Cluster.Get(Context.System).SelfAddress.ToString();
        Receive<RunMapTask>(task =>
        {
            var key = (task.JobId, task.Task, task.Attempt);
            if (_running.ContainsKey(key) || _queue.Any(q => (q.JobId, q.Task, q.Attempt) == key))
            {
                return;
            }

            _queue.AddLast(task);
            StartQueued(services, node);
        });

        Receive<AbortMapAttempt>(abort =>
        {
            Remove(q => q.JobId == abort.JobId && q.Task == abort.Task && q.Attempt == abort.Attempt);
            if (_running.TryGetValue((abort.JobId, abort.Task, abort.Attempt), out var runner))
            {
                Context.Stop(runner);
            }
        });

        Receive<AbortJob>(abort =>
        {
            Remove(q => q.JobId == abort.JobId);
            foreach (var (key, runner) in _running.Where(r => r.Key.Job == abort.JobId))
            {
                Context.Stop(runner);
            }
        });

        Receive<Terminated>(terminated =>
        {
            foreach (var key in _running.Where(r => r.Value.Equals(terminated.ActorRef)).Select(r => r.Key).ToList())
            {
                _running.Remove(key);
            }

            _computing.Remove(terminated.ActorRef);
            StartQueued(services, node);
        });

        Receive<MapAttemptRunner.ComputeFinished>(_ =>
        {
            _computing.Remove(Sender);
            StartQueued(services, node);
        });
    }

    /// <summary>The worker's props.</summary>
    public static Props Props(MapReduceServices services) => Akka.Actor.Props.Create(() => new MapReduceWorker(services));

    // A failing attempt reports its own failure; the worker never restarts one.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private void StartQueued(MapReduceServices services, string node)
    {
        while (_computing.Count < services.Settings.WorkerConcurrency && _queue.First is { } next)
        {
            _queue.RemoveFirst();
            var task = next.Value;
            // Named by a counter, never by the job id: a name Akka refuses would throw here and restart the worker,
            // stopping every attempt it runs.
            var runner = Context.ActorOf(MapAttemptRunner.Props(task, services, node), $"map-{++_started}");
            Context.Watch(runner);
            _running[(task.JobId, task.Task, task.Attempt)] = runner;
            _computing.Add(runner);
        }
    }

    private void Remove(Func<RunMapTask, bool> match)
    {
        for (var item = _queue.First; item is not null;)
        {
            var next = item.Next;
            if (match(item.Value))
            {
                _queue.Remove(item);
            }

            item = next;
        }
    }
}

/// <summary>
/// One map attempt: reads its split and maps it off the actor (on the thread pool), delivers each reduce partition's
/// chunks (repeating unanswered ones; partitions store them durably before answering), then reports to the
/// coordinator until it acknowledges. Stopping the actor cancels the work.
/// </summary>
internal sealed class MapAttemptRunner : ReceiveActor, IWithTimers
{
    private const int MaxChunksInFlight = 16;
    private const string ResendTimer = "resend";

    private readonly RunMapTask _task;
    private readonly MapReduceServices _services;
    private readonly string _node;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<StoreMapOutput> _unsent = new();
    private readonly Dictionary<(int Reducer, int Chunk), (StoreMapOutput Message, DateTime SentAt)> _inFlight = [];
    private object? _report;
    private DateTime _deliveryStarted;

    public MapAttemptRunner(RunMapTask task, MapReduceServices services, string node)
    {
        _task = task;
        _services = services;
        _node = node;

        Receive<MapComputed>(computed =>
        {
            Context.Parent.Tell(ComputeFinished.Instance);
            Coordinators.Tell(new MapTaskComputed(_task.JobId, _task.Task, _task.Attempt));
            Deliver(computed);
        });
        Receive<Status.Failure>(failure =>
        {
            Context.Parent.Tell(ComputeFinished.Instance);
            Report(new MapTaskFailed(_task.JobId, _task.Task, _task.Attempt, Describe(failure.Cause)));
        });
        Receive<MapOutputRefused>(refused => Report(new MapTaskFailed(_task.JobId, _task.Task, _task.Attempt, refused.Reason)));
        Receive<MapOutputStored>(stored =>
        {
            if (!_inFlight.Remove((ReducerOf(stored.EntityId), stored.Chunk)))
            {
                return;
            }

            SendMore();
            if (_inFlight.Count == 0 && _unsent.Count == 0 && _report is MapTaskSucceeded)
            {
                Coordinators.Tell(_report);
            }
        });
        // A reduce partition or the coordinator could not journal a chunk or the report: the timer sends it again.
        Receive<EntityUnavailable>(_ => { });
        Receive<ResendTick>(_ => Resend());
        Receive<TaskReportAcknowledged>(_ => Context.Stop(Self));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private IActorRef Coordinators => ClusterSharding.Get(Context.System).ShardRegion(CoordinatorTypeName);

    private IActorRef Reducers => ClusterSharding.Get(Context.System).ShardRegion(ReducerTypeName);

    public static Props Props(RunMapTask task, MapReduceServices services, string node) =>
        Akka.Actor.Props.Create(() => new MapAttemptRunner(task, services, node));

    private static readonly TimeSpan MapSlice = TimeSpan.FromMilliseconds(20);

    protected override void PreStart()
    {
        var (task, services, node, token) = (_task, _services, _node, _cancellation.Token);
        Task.Run(() => RunAsync(task, services, node, token), token).PipeTo(Self);
    }

    protected override void PostStop() => _cancellation.Cancel();

    /// <summary>Reads and maps one split; the result is the output per reduce partition and whether the data was local.</summary>
    internal static async Task<MapComputed> RunAsync(RunMapTask task, MapReduceServices services, string node, CancellationToken cancellationToken)
    {
        var runner = services.Jobs.Get(task.JobType)
            .CreateMapRunner(JobParameters.Parse(task.Parameters), task.Reducers, services.Settings.ShuffleChunkBytes);
        var input = JobInputs.For(task.Input, services);

        // Only for the counters: asked alongside the reading, never delaying it.
        var local = input.IsLocalAsync(task.Split, node, cancellationToken);
        var slice = System.Diagnostics.Stopwatch.StartNew();
        await foreach (var batch in input.ReadAsync(task, cancellationToken))
        {
            foreach (var record in batch)
            {
                runner.Map(record);
                if (runner.EstimatedBytes > services.Settings.MapOutputBudgetBytes)
                {
                    throw new InvalidOperationException(
                        $"the map output of task {task.Task} passed the node's memory budget of {services.Settings.MapOutputBudgetBytes} bytes (MapReduce MapOutputBudgetBytes); use more input splits or a combiner");
                }

                if (slice.Elapsed >= MapSlice)
                {
                    // Long map work gives its thread back now and then, so work queued behind it on the pool (the
                    // actors carrying cluster heartbeats among it) is never starved; a stopped attempt stops here.
                    cancellationToken.ThrowIfCancellationRequested();
                    await Task.Yield();
                    slice.Restart();
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        var output = runner.Finish();

        // An owner that does not answer by now is moving: the attempt is not counted as local.
        await Task.WhenAny(local, Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken));
        _ = local.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        return new MapComputed(output, local.IsCompletedSuccessfully && local.Result);
    }

    private void Deliver(MapComputed computed)
    {
        var chunks = computed.Output.ChunksPerReducer;
        MapReduceMetrics.For(Context.System).Shuffled(chunks.Sum(r => r.Sum(c => (long)c.Length)));
        for (var r = 0; r < chunks.Length; r++)
        {
            for (var c = 0; c < chunks[r].Length; c++)
            {
                _unsent.Enqueue(new StoreMapOutput($"{_task.JobId}.{r}", _task.Task, _task.Attempt, c, chunks[r][c]));
            }
        }

        _report = new MapTaskSucceeded(
            _task.JobId, _task.Task, _task.Attempt, _node, computed.Output.Counters, chunks.Select(c => c.Length).ToArray(), computed.DataLocal);
        _deliveryStarted = DateTime.UtcNow;
        Timers.StartPeriodicTimer(ResendTimer, ResendTick.Instance, _services.Settings.ReportResendInterval);
        SendMore();
        if (_unsent.Count == 0 && _inFlight.Count == 0)
        {
            Coordinators.Tell(_report);
        }
    }

    private void SendMore()
    {
        while (_inFlight.Count < MaxChunksInFlight && _unsent.TryDequeue(out var chunk))
        {
            _inFlight[(ReducerOf(chunk.EntityId), chunk.Chunk)] = (chunk, DateTime.UtcNow);
            Reducers.Tell(chunk);
        }
    }

    private void Resend()
    {
        if (_inFlight.Count > 0 || _unsent.Count > 0)
        {
            if (DateTime.UtcNow - _deliveryStarted > _services.Settings.TaskTimeout)
            {
                var reducers = string.Join(", ", _inFlight.Keys.Select(k => k.Reducer).Distinct().Order());
                Report(new MapTaskFailed(_task.JobId, _task.Task, _task.Attempt, $"reduce partitions {reducers} did not store the map output in time"));
                return;
            }

            var due = DateTime.UtcNow - _services.Settings.ReportResendInterval;
            foreach (var (key, (message, sentAt)) in _inFlight.Where(f => f.Value.SentAt <= due).ToList())
            {
                _inFlight[key] = (message, DateTime.UtcNow);
                Reducers.Tell(message);
            }

            return;
        }

        if (_report is not null)
        {
            Coordinators.Tell(_report);
        }
    }

    private void Report(MapTaskFailed failure)
    {
        _log.Warning("Map attempt {JobId}/{Task}/{Attempt} failed: {Error}", _task.JobId, _task.Task, _task.Attempt, failure.Error);
        _unsent.Clear();
        _inFlight.Clear();
        _report = failure;
        Timers.StartPeriodicTimer(ResendTimer, ResendTick.Instance, _services.Settings.ReportResendInterval);
        Coordinators.Tell(failure);
    }

    private static int ReducerOf(string entityId) => int.Parse(entityId.AsSpan(entityId.LastIndexOf('.') + 1), provider: System.Globalization.CultureInfo.InvariantCulture);

    private static string Describe(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerExceptions[0]),
        InvalidJobParametersException or InvalidOperationException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    internal sealed record MapComputed(MapTaskOutput Output, bool DataLocal);

    /// <summary>Tells the worker that this attempt no longer computes (it delivers, reports, or failed).</summary>
    internal sealed class ComputeFinished
    {
        public static readonly ComputeFinished Instance = new();
    }

    private sealed class ResendTick
    {
        public static readonly ResendTick Instance = new();
    }
}
