#nullable enable
using System.Collections.Concurrent;
using Akka.Configuration;
using Akka.Dispatch;

namespace ActorGrid.TestKit.Faults;

/// <summary>
/// The in-process equivalent of SIGSTOP for one node of a <see cref="GridTestCluster"/>: every dispatcher of the node
/// runs on this gate, and while it is paused no actor of the node processes a message. Messages keep arriving (from
/// remoting, timers, HTTP requests) and queue in mailboxes, as they queue at a stopped process's sockets; clocks go on;
/// on <see cref="Resume"/> everything queued runs at once against the state the node had when it stopped.
/// Its lease renewals stop too (they run on the node's dispatcher), so its shard leases expire in the database.
/// </summary>
public sealed class PauseGate
{
    /// <summary>The configuration key naming a node's gate, under each dispatcher's config.</summary>
    internal const string ConfigKey = "actorgrid-pause-gate";

    private static readonly ConcurrentDictionary<string, PauseGate> Gates = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Queue<IRunnable> _held = new();
    private bool _paused;

    private PauseGate(string id) => Id = id;

    /// <summary>The gate's id (one per node).</summary>
    public string Id { get; }

    /// <summary>Whether the gate holds work back.</summary>
    public bool IsPaused
    {
        get
        {
            lock (_lock)
            {
                return _paused;
            }
        }
    }

    /// <summary>A new gate, registered so the node's dispatchers can find it by id.</summary>
    public static PauseGate Create()
    {
        var gate = new PauseGate(Guid.NewGuid().ToString("N"));
        Gates[gate.Id] = gate;
        return gate;
    }

    /// <summary>Forgets the gate (its node is gone); work still held is released.</summary>
    public void Remove()
    {
        Resume();
        Gates.TryRemove(Id, out _);
    }

    /// <summary>From now on, no work of the node starts; work already running finishes its current mailbox run.</summary>
    public void Pause()
    {
        lock (_lock)
        {
            _paused = true;
        }
    }

    /// <summary>Releases everything held, in order, and runs work as it comes again.</summary>
    public void Resume()
    {
        List<IRunnable> held;
        lock (_lock)
        {
            _paused = false;
            held = [.. _held];
            _held.Clear();
        }

        foreach (var run in held)
        {
            ThreadPool.UnsafeQueueUserWorkItem(run, preferLocal: false);
        }
    }

    internal static PauseGate For(string id) =>
        Gates.TryGetValue(id, out var gate) ? gate : throw new InvalidOperationException($"No pause gate {id}");

    internal void Execute(IRunnable run)
    {
        lock (_lock)
        {
            if (_paused)
            {
                _held.Enqueue(run);
                return;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(run, preferLocal: false);
    }

    /// <summary>The HOCON that puts the node's dispatchers on <paramref name="gate"/>.</summary>
    internal static string Hocon(PauseGate gate)
    {
        string[] dispatchers =
        [
            "akka.actor.default-dispatcher", "akka.actor.internal-dispatcher", "akka.remote.default-remote-dispatcher",
            "akka.remote.backoff-remote-dispatcher", "akka.persistence.dispatchers.default-plugin-dispatcher",
            "akka.persistence.dispatchers.default-replay-dispatcher", "akka.actor.default-blocking-io-dispatcher",
        ];
        var executor = typeof(PausableExecutorConfigurator).AssemblyQualifiedName;
        return string.Join('\n', dispatchers.Select(d => $"{d} {{ executor = \"{executor}\", {ConfigKey} = \"{gate.Id}\" }}"));
    }
}

/// <summary>Akka's hook for the executor of a dispatcher: runs the dispatcher's work through its node's <see cref="PauseGate"/>.</summary>
public sealed class PausableExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    private readonly PauseGate _gate = PauseGate.For(config.GetString(PauseGate.ConfigKey));

    /// <inheritdoc />
    public override ExecutorService Produce(string id) => new Executor(id, _gate);

    private sealed class Executor(string id, PauseGate gate) : ExecutorService(id)
    {
        public override void Execute(IRunnable run) => gate.Execute(run);

        public override void Shutdown()
        {
        }
    }
}
