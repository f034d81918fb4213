#nullable enable
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Cluster;
using Akka.Coordination;
using Akka.Dispatch;
using Akka.Event;

namespace ActorGrid.Coordination;

/// <summary>
/// An <see cref="Akka.Coordination.Lease"/> held in the journal database (<c>actorgrid_lease</c>), used by cluster
/// sharding (<c>akka.cluster.sharding.use-lease</c>) so that a shard runs on one node at a time.
/// <para>
/// Expiry is decided by the database's clock: another node acquires the lease only once it has expired there (or
/// was released). Whether this node may still act on it is decided on its own monotonic clock, conservatively:
/// valid until the moment the last successful renewal was <em>sent</em> plus the TTL minus a margin — so a process
/// that was paused (SIGSTOP, a GC or VM stall) sees on waking, before anything else, that its right has lapsed.
/// <see cref="CheckLease"/> is a clock read and a compare: no I/O.
/// </para>
/// <para>
/// All leases of a node are renewed together, one statement every <c>heartbeat-interval</c>; an expired lease is
/// never renewed (its holder must acquire it again), and one that fails to renew is reported lost.
/// </para>
/// </summary>
public sealed class SqlLease : Lease
{
    /// <summary>Config path of ActorGrid's shard lease.</summary>
    public const string ConfigPath = "actorgrid.shard-lease";

    private readonly LeaseRenewer _renewer;
    private long _validUntil;
    private long _epoch;
    private Action<Exception>? _lost;

    /// <summary>Created by <see cref="LeaseProvider"/> from the settings at <see cref="ConfigPath"/>.</summary>
    public SqlLease(LeaseSettings settings, ExtendedActorSystem system)
        : base(settings)
    {
        _renewer = LeaseRenewer.For(system, settings);

        // One owner per incarnation: a node restarted at the same address does not inherit what its predecessor held.
        Owner = settings.OwnerName + "#" + Cluster.Get(system).SelfUniqueAddress.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    internal string Name => Settings.LeaseName;

    internal string Owner { get; }

    internal long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>The lease's fencing counter in the database when this node last acquired it (0: never).</summary>
    public long Fence { get; private set; }

    /// <inheritdoc />
    public override Task<bool> Acquire() => Acquire(null!);

    /// <inheritdoc />
    public override async Task<bool> Acquire(Action<Exception> leaseLostCallback)
    {
        var sent = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(Settings.TimeoutSettings.OperationTimeout);
        var fence = await _renewer.Table.TryAcquireAsync(Name, Owner, _renewer.Ttl, timeout.Token);
        if (fence is null)
        {
            return false;
        }

        Fence = fence.Value;
        _lost = leaseLostCallback;
        Interlocked.Increment(ref _epoch);
        Extend(sent);
        _renewer.Hold(this);
        return true;
    }

    /// <inheritdoc />
    public override async Task<bool> Release()
    {
        Lapse();
        using var timeout = new CancellationTokenSource(Settings.TimeoutSettings.OperationTimeout);
        await _renewer.Table.ReleaseAsync(Name, Owner, timeout.Token);
        return true;
    }

    /// <summary>Whether this node still holds the lease, judged on its monotonic clock. No I/O.</summary>
    public override bool CheckLease() => Stopwatch.GetTimestamp() < Volatile.Read(ref _validUntil);

    /// <summary>A renewal sent at <paramref name="sentTimestamp"/> succeeded.</summary>
    internal void Extend(long sentTimestamp) =>
        Volatile.Write(ref _validUntil, sentTimestamp + (long)(_renewer.Validity.TotalSeconds * Stopwatch.Frequency));

    /// <summary>The lease is gone (not renewed in time, or taken): stop acting on it and tell its user.</summary>
    internal void Lose(Exception reason)
    {
        Lapse();
        _lost?.Invoke(reason);
    }

    private void Lapse()
    {
        Volatile.Write(ref _validUntil, 0);
        Interlocked.Increment(ref _epoch);
        _renewer.Drop(this);
    }

    /// <summary>Renews every lease the node holds, in one statement per interval.</summary>
    internal sealed class LeaseRenewer
    {
        private static readonly ConditionalWeakTable<ActorSystem, LeaseRenewer> Renewers = new();
        private readonly ConcurrentDictionary<string, SqlLease> _held = new(StringComparer.Ordinal);
        private readonly ILoggingAdapter _log;
        private readonly TimeSpan _interval;
        private readonly MessageDispatcher _dispatcher;

        private LeaseRenewer(ExtendedActorSystem system, LeaseSettings settings)
        {
            var config = settings.LeaseConfig;
            Ttl = settings.TimeoutSettings.HeartbeatTimeout;
            _interval = settings.TimeoutSettings.HeartbeatInterval;

            // The margin covers the database clock stepping forward (NTP) and clock rates differing between hosts.
            Validity = Ttl - TimeSpan.FromTicks(Ttl.Ticks / 4);
            Table = new LeaseTable(
                string.Equals(config.GetString("provider", "sqlite"), "postgresql", StringComparison.OrdinalIgnoreCase),
                config.GetString("connection-string"),
                settings.TimeoutSettings.OperationTimeout);
            _log = Logging.GetLogger(system, typeof(SqlLease));
            _dispatcher = system.Dispatchers.DefaultGlobalDispatcher;
            var cancel = new CancellationTokenSource();
            system.WhenTerminated.ContinueWith(_ => cancel.Cancel(), TaskScheduler.Default);
            _ = Task.Run(() => RenewLoopAsync(cancel.Token));
        }

        public LeaseTable Table { get; }

        public TimeSpan Ttl { get; }

        public TimeSpan Validity { get; }

        public static LeaseRenewer For(ExtendedActorSystem system, LeaseSettings settings) =>
            Renewers.GetValue(system, _ => new LeaseRenewer(system, settings));

        public void Hold(SqlLease lease) => _held[lease.Name] = lease;

        public void Drop(SqlLease lease) => _held.TryRemove(new KeyValuePair<string, SqlLease>(lease.Name, lease));

        private async Task RenewLoopAsync(CancellationToken cancellationToken)
        {
            using var timer = new PeriodicTimer(_interval);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!_held.IsEmpty)
                {
                    // Renewed only while the node's actors run: a node whose dispatcher is stopped (or starved) must
                    // not keep leases alive for entities that cannot act on them.
                    var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _dispatcher.Schedule(() => running.TrySetResult());
                    await running.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                    await RenewAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private async Task RenewAsync(CancellationToken cancellationToken)
        {
            var sent = Stopwatch.GetTimestamp();
            var leases = _held.Values.Select(l => (Lease: l, l.Epoch)).ToList();
            try
            {
                // A renewal that answers after the lease's validity could not help: give up on it then.
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Validity);
                var renewed = await Table.RenewAsync([.. leases.Select(l => l.Lease.Name)], leases[0].Lease.Owner, Ttl, timeout.Token).ConfigureAwait(false);
                foreach (var (lease, epoch) in leases.Where(l => l.Lease.Epoch == l.Epoch))
                {
                    if (renewed.Contains(lease.Name))
                    {
                        lease.Extend(sent);
                    }
                    else
                    {
                        _log.Warning("Lease {Lease} expired before it could be renewed (the node was paused or the database slow); giving it up", lease.Name);
                        lease.Lose(new LeaseTimeoutException($"lease {lease.Name} expired before it was renewed"));
                    }
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _log.Warning(e, "Renewing {Count} leases failed", leases.Count);
                foreach (var (lease, _) in leases.Where(l => l.Lease.Epoch == l.Epoch && !l.Lease.CheckLease()))
                {
                    lease.Lose(e);
                }
            }
        }
    }
}
