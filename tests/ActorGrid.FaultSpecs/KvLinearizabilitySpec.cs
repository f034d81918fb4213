using System.Diagnostics;
using System.Globalization;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Histories;
using ActorGrid.TestKit.Load;
using Xunit.Abstractions;

namespace ActorGrid.FaultSpecs;

/// <summary>
/// Jepsen's register test for KV: eight clients run strong reads, puts, compare-and-sets, creates and deletes
/// through every running node of a 3-node cluster while a seeded nemesis pauses owners long enough to be downed
/// (their queued requests answered after waking), crashes nodes, cuts a node off, and cuts one direction only;
/// each fault is healed and the cluster made whole before the next. The whole history must be linearizable per key.
/// Runs <c>ACTORGRID_NEMESIS_SECONDS</c> (default 120) with seed <c>ACTORGRID_NEMESIS_SEED</c> (default 12).
/// </summary>
public sealed class KvLinearizabilitySpec(ITestOutputHelper output) : IAsyncLifetime
{
    private GridTestCluster _cluster = null!;

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    public async Task InitializeAsync() =>
        _cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue(), new GridTestClusterOptions
        {
            Log = output.WriteLine,
            Configure = (_, options) => options with { Kv = options.Kv with { Partitions = 12 } },
            Timeout = TimeSpan.FromSeconds(60),
        });

    [Fact]
    public async Task Strong_operations_are_linearizable_through_pauses_crashes_and_partitions()
    {
        var seed = Setting("ACTORGRID_NEMESIS_SEED", 12);
        var duration = TimeSpan.FromSeconds(Setting("ACTORGRID_NEMESIS_SECONDS", 120));
        var random = new Random(seed);
        output.WriteLine($"nemesis seed {seed}, {duration.TotalSeconds:0}s");
        var load = new KvRegisterLoad(() => _cluster.Running.Where(n => !n.IsPaused).Select(n => n.Client).ToList(), seed);
        using var stop = new CancellationTokenSource();
        var clients = load.RunAsync(stop.Token);

        var clock = Stopwatch.StartNew();
        var faults = new List<string>();
        while (clock.Elapsed < duration)
        {
            var victim = random.Next(3);
            var other = (victim + 1 + random.Next(2)) % 3;
            var kind = random.Next(4);
            var at = clock.Elapsed.TotalSeconds;
            switch (kind)
            {
                case 0:
                    // Long enough for the others to down it and take its partitions over; requests queue meanwhile.
                    _cluster.Pause(victim);
                    await Eventually.AwaitAsync(() => NotMember(victim), TimeSpan.FromSeconds(60), $"node{victim} to be removed while paused");
                    _cluster.Resume(victim);
                    faults.Add($"{at:0}s pause node{victim} until removed");
                    break;
                case 1:
                    await _cluster.CrashAsync(victim);
                    faults.Add($"{at:0}s crash node{victim}");
                    break;
                case 2:
                    await _cluster.PartitionAsync([victim], Enumerable.Range(0, 3).Where(i => i != victim).ToList());
                    await Eventually.AwaitAsync(() => NotMember(victim), TimeSpan.FromSeconds(60), $"node{victim} to be removed by the majority");
                    await _cluster.HealAsync();
                    faults.Add($"{at:0}s partition [{victim}] | rest");
                    break;
                default:
                    await _cluster.PartitionOneWayAsync(victim, other);
                    await Eventually.AwaitAsync(() => _cluster.Running.Count(n => !n.UpMembers.Contains(_cluster[victim].Address) || !n.UpMembers.Contains(_cluster[other].Address)) > 0 ? null : "both still Up everywhere",
                        TimeSpan.FromSeconds(60), $"node{victim} or node{other} to be downed");
                    await _cluster.HealAsync();
                    faults.Add($"{at:0}s one-way partition node{victim} -> node{other}");
                    break;
            }

            output.WriteLine("injected: " + faults[^1]);
            await MakeWholeAsync();
            await AwaitProgressAsync(load);
        }

        await stop.CancelAsync();
        await clients;
        await load.ReadAllAsync(_cluster.Running[0].Client);

        var operations = load.Operations;
        var result = KvHistoryChecker.CheckLinearizable(operations);
        output.WriteLine($"checked: {operations.Count} operations on {load.Keys.Count} keys, {operations.Count(o => o.Outcome == Outcome.Ok)} answered, " +
                         $"{operations.Count(o => o.Outcome == Outcome.Unknown)} with unknown outcome, across {faults.Count} faults ({string.Join("; ", faults)})");
        output.WriteLine(result.ToString());
        result.AssertValid();
    }

    /// <summary>A node no running peer has as a member any more.</summary>
    private string? NotMember(int index)
    {
        var address = _cluster[index].Address;
        var peers = _cluster.Running.Where(n => n.Index != index && !n.IsPaused).ToList();
        return peers.Count > 0 && peers.All(p => !p.UpMembers.Contains(address) && Akka.Cluster.Cluster.Get(p.System).State.Members.All(m => m.Address != address))
            ? null
            : $"node{index} is still a member for some peer";
    }

    /// <summary>
    /// Until three members are Up on every node: a node that stopped (downed nodes stop by themselves — DownedNodeGuard,
    /// the split-brain resolver) is started again fresh; a downed node that has not stopped yet is waited for.
    /// </summary>
    private async Task MakeWholeAsync() =>
        await Eventually.AwaitAsync(async () =>
        {
            foreach (var node in _cluster.Nodes.Where(n => !n.IsRunning).ToList())
            {
                await _cluster.RestartAsync(node.Index);
            }

            var running = _cluster.Running;
            var views = running.Select(n => Akka.Cluster.Cluster.Get(n.System).State).ToList();
            return running.Count == 3 && views.All(v => v.Members.Count == 3 && v.Members.All(m => m.Status == Akka.Cluster.MemberStatus.Up) && v.Unreachable.Count == 0)
                ? null
                : string.Join("; ", running.Select((n, i) => $"node{n.Index} sees {string.Join(",", views[i].Members.Select(m => $"{m.Address.Port}:{m.Status}"))}"));
        }, TimeSpan.FromSeconds(120), "three members Up on every node");

    private static async Task AwaitProgressAsync(KvRegisterLoad load)
    {
        var completed = load.Completed;
        await Eventually.AwaitAsync(() => load.Completed >= completed + 40 ? null : $"{load.Completed} operations answered",
            TimeSpan.FromSeconds(60), "the clients to make progress");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();
}
