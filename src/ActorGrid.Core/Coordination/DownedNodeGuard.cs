#nullable enable
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Remote;

namespace ActorGrid.Coordination;

/// <summary>
/// Makes a node that was (or must assume it was) removed by the others stop at once, whatever its own view of
/// reachability says. A paused node wakes believing it is still a member: it sees its peers unreachable, may make
/// itself leader of that view, and the majority ignores its gossip, so it would not hear that it was downed. Two
/// signals end it instead:
/// <list type="bullet">
/// <item>a pause watchdog on the monotonic clock: a dedicated thread that notices a gap longer than the majority needs
/// to down a silent node (acceptable heartbeat pause, then stable-after) — its peers had every reason to down it;</item>
/// <item>being quarantined by a peer (<see cref="ThisActorSystemQuarantinedEvent"/>): it was removed.</item>
/// </list>
/// Either marks the node Down in its own view, which exits the process; its shard leases have lapsed by then (the fence stopped
/// it serving first), and a supervisor (systemd, a StatefulSet) starts it again as a new incarnation.
/// </summary>
public static class DownedNodeGuard
{
    /// <summary>Starts the guard for <paramref name="system"/>; <paramref name="maxPause"/> is the longest gap it tolerates.</summary>
    public static void Start(ActorSystem system, TimeSpan maxPause)
    {
        var guard = system.ActorOf(Props.Create(() => new QuarantineListener()), "actorgrid-downed-node-guard");
        system.EventStream.Subscribe(guard, typeof(ThisActorSystemQuarantinedEvent));
        var tick = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(10).Ticks, maxPause.Ticks / 8));
        var thread = new Thread(() => Watch(system, maxPause, tick)) { IsBackground = true, Name = "actorgrid-pause-watchdog" };
        thread.Start();
    }

    private static void Watch(ActorSystem system, TimeSpan maxPause, TimeSpan tick)
    {
        var last = Stopwatch.GetTimestamp();
        while (!system.WhenTerminated.IsCompleted)
        {
            Thread.Sleep(tick);
            var now = Stopwatch.GetTimestamp();
            var gap = Stopwatch.GetElapsedTime(last, now);
            last = now;
            if (gap > maxPause)
            {
                system.Log.Error("The node was paused for {Gap:0.0}s, longer than the {MaxPause:0.0}s the others wait before downing it: it must assume it was removed, and stops", gap.TotalSeconds, maxPause.TotalSeconds);
                DownSelf(system);
                return;
            }
        }
    }

    /// <summary>
    /// Marks this node Down in its own view: it stops leading (a Down member never leads or takes downing decisions,
    /// so it cannot down the majority in its view), and <c>run-coordinated-shutdown-when-down</c> exits without the
    /// hand-offs of a graceful leave, which a removed node cannot do. Coordinated shutdown is the fallback.
    /// </summary>
    private static void DownSelf(ActorSystem system)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        cluster.Down(cluster.SelfAddress);
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromSeconds(5), () => CoordinatedShutdown.Get(system).Run(RemovedReason.Instance));
    }

    /// <summary>Coordinated shutdown because the node was, or must assume it was, removed by the others.</summary>
    public sealed class RemovedReason : CoordinatedShutdown.Reason
    {
        /// <summary>The instance.</summary>
        public static readonly RemovedReason Instance = new();

        private RemovedReason()
        {
        }

        /// <inheritdoc />
        public override int ExitCode => 1;
    }

    private sealed class QuarantineListener : ReceiveActor
    {
        public QuarantineListener() =>
            Receive<ThisActorSystemQuarantinedEvent>(e =>
            {
                Context.GetLogger().Error("Quarantined by {Remote}: this node was removed from the cluster, and stops", e.RemoteAddress);
                DownSelf(Context.System);
            });
    }
}
