#nullable enable
using Akka.Actor;
using Akka.Event;

namespace ActorGrid.Entities;

/// <summary>Which children restart when one fails (Erlang/OTP restart strategies).</summary>
public enum RestartStrategy
{
    /// <summary>Only the failed child restarts.</summary>
    OneForOne,

    /// <summary>All children restart when one fails (they depend on each other).</summary>
    AllForOne,
}

/// <summary>
/// An OTP supervisor specification: a strategy, a restart intensity (at most <see cref="MaxRestarts"/> restarts
/// within <see cref="Within"/>, beyond which the supervisor itself fails and its parent decides), and an
/// exponential backoff between a failure and the restart.
/// </summary>
public sealed record SupervisorSpec(RestartStrategy Strategy, int MaxRestarts, TimeSpan Within, TimeSpan MinBackoff, TimeSpan MaxBackoff)
{
    /// <summary>OTP's defaults (intensity 1 in 5 s is strict; 3 in 5 s is the common choice) with a short backoff.</summary>
    public static SupervisorSpec OneForOne(int maxRestarts = 3, TimeSpan? within = null) =>
        new(RestartStrategy.OneForOne, maxRestarts, within ?? TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    /// <summary>All-for-one with the same defaults as <see cref="OneForOne"/>.</summary>
    public static SupervisorSpec AllForOne(int maxRestarts = 3, TimeSpan? within = null) =>
        OneForOne(maxRestarts, within) with { Strategy = RestartStrategy.AllForOne };
}

/// <summary>A supervised child: a name callers use and how to create it.</summary>
public sealed record ChildSpec(string Name, Props Props);

/// <summary>The supervisor failed because its children failed more often than its restart intensity allows.</summary>
public sealed class RestartIntensityExceededException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// An OTP-style supervisor: owns named children, restarts them per <see cref="SupervisorSpec"/> with backoff, and
/// fails itself (escalating to its parent — the shard, for a grid entity) when restarts exceed the intensity.
/// Send <see cref="ToChild"/> to reach a child by name; messages for a child waiting out its backoff are held
/// (up to a bound) and delivered after the restart.
/// </summary>
public sealed class GridSupervisor : UntypedActor, IWithTimers
{
    private const int MaxHeldPerChild = 1000;
    private readonly SupervisorSpec _spec;
    private readonly Dictionary<string, ChildSpec> _specs;
    private readonly Dictionary<string, IActorRef> _running = [];
    private readonly Dictionary<string, List<(object Message, IActorRef Sender)>> _held = [];
    private readonly Queue<DateTime> _restarts = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates a supervisor of <paramref name="children"/>.</summary>
    public GridSupervisor(SupervisorSpec spec, IReadOnlyList<ChildSpec> children)
    {
        _spec = spec;
        _specs = children.ToDictionary(c => c.Name);
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props of a supervisor of <paramref name="children"/>.</summary>
    public static Props Props(SupervisorSpec spec, params ChildSpec[] children) =>
        Akka.Actor.Props.Create(() => new GridSupervisor(spec, children));

    /// <summary>Delivers <paramref name="Message"/> to the child named <paramref name="Child"/> (sender preserved).</summary>
    public sealed record ToChild(string Child, object Message);

    private sealed record RestartChildren(IReadOnlyList<string> Names);

    /// <inheritdoc />
    protected override void PreStart()
    {
        foreach (var name in _specs.Keys)
        {
            Start(name);
        }
    }

    /// <inheritdoc />
    protected override SupervisorStrategy SupervisorStrategy() =>
        // Every failure stops the child; this actor decides when (and whether) it comes back.
        new OneForOneStrategy(Decide);

    /// <inheritdoc />
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ToChild(var name, var payload) when _running.TryGetValue(name, out var child):
                child.Forward(payload);
                break;
            case ToChild(var name, var payload) when _specs.ContainsKey(name):
                var held = _held.TryGetValue(name, out var list) ? list : _held[name] = [];
                if (held.Count < MaxHeldPerChild)
                {
                    held.Add((payload, Sender));
                }
                else
                {
                    Context.System.DeadLetters.Tell(new DeadLetter(payload, Sender, Self));
                }

                break;
            case ToChild(var name, _):
                Sender.Tell(new Status.Failure(new ArgumentException($"No child '{name}'")));
                break;
            case RestartChildren(var names):
                foreach (var name in names.Where(n => !_running.ContainsKey(n)))
                {
                    Start(name);
                }

                break;
            case Terminated terminated:
                var stopped = _running.FirstOrDefault(kv => kv.Value.Equals(terminated.ActorRef));
                if (stopped.Key is not null)
                {
                    _running.Remove(stopped.Key);
                }

                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private Directive Decide(Exception failure)
    {
        var now = DateTime.UtcNow;
        _restarts.Enqueue(now);
        while (_restarts.Count > 0 && now - _restarts.Peek() > _spec.Within)
        {
            _restarts.Dequeue();
        }

        if (_restarts.Count > _spec.MaxRestarts)
        {
            throw new RestartIntensityExceededException(
                $"{_restarts.Count} restarts within {_spec.Within} exceed the intensity of {_spec.MaxRestarts}", failure);
        }

        var failed = _running.Where(kv => kv.Value.Equals(Sender)).Select(kv => kv.Key).ToList();
        var toRestart = _spec.Strategy == RestartStrategy.AllForOne ? _specs.Keys.ToList() : failed;
        foreach (var name in toRestart)
        {
            if (_running.Remove(name, out var child) && !failed.Contains(name))
            {
                Context.Stop(child);
            }
        }

        var backoff = TimeSpan.FromTicks(Math.Min(_spec.MaxBackoff.Ticks, _spec.MinBackoff.Ticks * (1L << Math.Min(20, _restarts.Count - 1))));
        _log.Warning(failure, "Child {Failed} failed; restarting {Restarting} in {Backoff} ({Restarts}/{MaxRestarts} restarts within {Within})",
            string.Join(",", failed), string.Join(",", toRestart), backoff, _restarts.Count, _spec.MaxRestarts, _spec.Within);
        Timers.StartSingleTimer(("restart", string.Join(",", toRestart)), new RestartChildren(toRestart), backoff);
        return Directive.Stop;
    }

    private void Start(string name)
    {
        // A stopped child's name is only free once it has terminated; a unique suffix avoids waiting for that.
        var child = Context.ActorOf(_specs[name].Props, $"{name}-{Guid.NewGuid():N}");
        Context.Watch(child);
        _running[name] = child;
        if (_held.Remove(name, out var held))
        {
            foreach (var (message, sender) in held)
            {
                child.Tell(message, sender);
            }
        }
    }
}
