using System.Diagnostics;
using ActorGrid.Broker;
using ActorGrid.Client;
using ActorGrid.KeyValue;
using ActorGrid.MapReduce;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Histories;
using ActorGrid.TestKit.Load;
using Xunit.Abstractions;

namespace ActorGrid.FaultSpecs;

/// <summary>
/// Jepsen-style fault specs for every role: KV writers and idempotent broker producers run over HTTP against a
/// 3-node in-process cluster, and a MapReduce word count job runs, while a fault is injected; afterwards the
/// recorded histories are checked and the job's result is compared with the reference.
/// Each spec prints what it injected and what it checked.
/// </summary>
public sealed class FaultSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private const int TopicPartitions = 3;
    private GridTestCluster _cluster = null!;
    private KvWriteLoad _kv = null!;
    private BrokerProduceLoad _broker = null!;
    private readonly CancellationTokenSource _stop = new();
    private Task _load = Task.CompletedTask;
    private string _jobId = "";

    /// <summary>2 000 lines whose word count is known by construction: 4 words 2 000 times, 50 numbers 40 times each.</summary>
    private static readonly string JobText = string.Join('\n', Enumerable.Range(0, 2000).Select(i => $"The quick brown fox {i % 50}"));

    private static readonly Dictionary<string, string> JobReference = new[] { "the", "quick", "brown", "fox" }
        .Select(w => (w, "2000")).Concat(Enumerable.Range(0, 50).Select(n => (n.ToString(System.Globalization.CultureInfo.InvariantCulture), "40")))
        .ToDictionary(p => p.Item1, p => p.Item2);

    public async Task InitializeAsync()
    {
        _cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue().WithBroker().WithMapReduce(), new GridTestClusterOptions
        {
            Log = output.WriteLine,
            Configure = (_, options) => options with { Kv = options.Kv with { Partitions = 12 } },
        });
        var topic = "faults-" + Guid.NewGuid().ToString("N")[..8];
        await BrokerProduceLoad.CreateTopicAsync(_cluster[0].Http, topic, TopicPartitions);
        _kv = new KvWriteLoad(() => _cluster.Running.Select(n => n.Http).ToList(), writers: 3, keysPerWriter: 6);
        _broker = new BrokerProduceLoad(() => _cluster.Running.Select(n => n.Http).ToList(), topic, producers: 2);
        _load = Task.WhenAll(_kv.RunAsync(_stop.Token), _broker.RunAsync(_stop.Token));
        _jobId = await _cluster[2].Client.Jobs.SubmitAsync(new JobRequest("wordcount", new JobInput(Text: JobText), Reducers: 4));
        await AwaitProgressAsync();
    }

    [Fact]
    public async Task Crash_of_a_shard_owner_under_load()
    {
        Inject($"crash node1 with {_kv.Acknowledged} writes and {_broker.Acknowledged.Count} records acknowledged");
        await _cluster.CrashAsync(1);
        await _cluster.WaitForUpAsync(2);
        await AwaitProgressAsync();

        await CheckAsync();
    }

    [Fact]
    public async Task Minority_partition_downs_the_minority_while_the_majority_serves()
    {
        Inject("partition [0] | [1,2]");
        await _cluster.PartitionAsync([0], [1, 2]);

        await _cluster.WaitForUpAsync(2);
        await Eventually.AwaitAsync(() => _cluster[0].IsRunning ? "node0 still runs" : null, TimeSpan.FromSeconds(30), "the minority to stop");
        output.WriteLine("checked: node0 (the minority) was downed and stopped accepting writes; nodes 1 and 2 serve");
        await AwaitProgressAsync();

        await CheckAsync();
    }

    [Fact]
    public async Task Rolling_restart_of_every_node_under_load()
    {
        var clock = Stopwatch.StartNew();
        for (var i = 2; i >= 0; i--)
        {
            Inject($"graceful restart of node{i} at {clock.Elapsed.TotalSeconds:0.0}s");
            await _cluster.LeaveAsync(i);
            await _cluster.WaitForUpAsync(2);
            await _cluster.RestartAsync(i);
            await AwaitProgressAsync();
        }

        await CheckAsync();
        var outages = _kv.LongestOutage;
        output.WriteLine($"longest write unavailability of a key: {(outages.Count == 0 ? 0 : outages.Values.Max().TotalSeconds):0.00}s");
    }

    [Fact]
    public async Task Journal_failure_fails_commands_without_acknowledging_them()
    {
        Inject("break the journal for the whole cluster");
        await _cluster.BreakJournalAsync();
        var brokenAt = Stopwatch.GetTimestamp();
        // Give every writer time to hit the failure, then count what was acknowledged while it lasted.
        await Eventually.AwaitAsync(() => _kv.Operations.Count(o => o.Invoked > brokenAt && o.Outcome != Outcome.Ok) >= 3 ? null : "writers have not hit the failure yet",
            TimeSpan.FromSeconds(30), "writes to fail");
        await _cluster.RepairJournalAsync();
        var repairedAt = Stopwatch.GetTimestamp();
        await AwaitProgressAsync();

        // A write invoked after the break and completed before the repair cannot have been durable.
        var ackedWhileBroken = _kv.Operations.Count(o => o.Outcome == Outcome.Ok && o.Invoked > brokenAt && o.Completed < repairedAt);
        output.WriteLine($"checked: {ackedWhileBroken} writes acknowledged while the journal was broken");
        Assert.Equal(0, ackedWhileBroken);
        await CheckAsync();
    }

    private void Inject(string what) => output.WriteLine("injected: " + what);

    private async Task AwaitProgressAsync()
    {
        var (writes, records) = (_kv.Acknowledged, _broker.Acknowledged.Count);
        await Eventually.AwaitAsync(
            () => _kv.Acknowledged >= writes + 30 && _broker.Acknowledged.Count >= records + 30 ? null : $"{_kv.Acknowledged} writes, {_broker.Acknowledged.Count} records",
            TimeSpan.FromSeconds(60), "the load to make progress");
    }

    private async Task CheckAsync()
    {
        await _stop.CancelAsync();
        await _load;
        var reader = _cluster.Running[0].Http;
        var writes = KvHistoryChecker.CheckAcknowledgedWritesReadable(_kv.Operations, await _kv.ReadAllAsync(reader));
        var log = BrokerHistoryChecker.Check(_broker.Acknowledged, await _broker.ReadAllAsync(reader, TopicPartitions));
        output.WriteLine($"checked: {_kv.Operations.Count} KV calls, {_kv.Acknowledged} acknowledged, {_kv.Operations.Count(o => o.Outcome == Outcome.Unknown)} unanswered");
        output.WriteLine(writes.ToString());
        output.WriteLine(log.ToString());

        var jobs = _cluster.Running[0].Client.Jobs;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var job = await jobs.WaitAsync(_jobId, cancellationToken: deadline.Token);
        // A reduce partition that moved with the crash answers 503 until it has recovered: that is an answer to wait out.
        var result = new Dictionary<string, string>();
        await Eventually.AwaitAsync(async () =>
        {
            try
            {
                result.Clear();
                await foreach (var item in jobs.ReadResultAsync(_jobId, cancellationToken: deadline.Token))
                {
                    result[item.Key] = item.Value;
                }

                return null;
            }
            catch (ActorGridException e) when (e.Status == System.Net.HttpStatusCode.ServiceUnavailable)
            {
                return e.Message;
            }
        }, TimeSpan.FromSeconds(60), "the job's result to be readable");

        var mapReduce = ResultChecker.Compare(JobReference, result);
        output.WriteLine($"checked: word count job {job.State}, counters {string.Join(", ", job.Counters.Select(c => $"{c.Key}={c.Value}"))}");
        output.WriteLine(mapReduce.ToString());
        writes.AssertValid();
        log.AssertValid();
        Assert.Equal("Completed", job.State);
        mapReduce.AssertValid();
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _load;
        await _cluster.DisposeAsync();
    }
}
