using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using ActorGrid.Grid;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Histories;
using ActorGrid.TestKit.Load;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.Node.Tests;

/// <summary>
/// Faults injected into real node processes under HTTP load (KV writes and idempotent broker production), then the
/// recorded histories are checked: nothing acknowledged may be lost, duplicated or reordered.
/// </summary>
public sealed class ProcessFaultSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private const int TopicPartitions = 3;
    private const int Partitions = 16;
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(60);
    private readonly string _data = Directory.CreateTempSubdirectory("actorgrid-faults-").FullName;
    private readonly NodeProcess?[] _pods = new NodeProcess?[3];
    private readonly int[] _remotingPorts = FreePorts.Take(3).ToArray();
    private readonly int[] _httpPorts = FreePorts.Take(3).ToArray();

    private IReadOnlyList<HttpClient> Live => _pods.Where(p => p is { HasExited: false }).Select(p => p!.Http).ToList();

    private IEnumerable<NodeProcess> Running => _pods.Where(p => p is { HasExited: false })!;

    [Fact]
    public async Task Sigkill_of_a_node_under_load_loses_no_acknowledged_write_or_record()
    {
        await StartPodsAsync();
        foreach (var pod in _pods)
        {
            var status = await pod!.Client.Cluster.GetStatusAsync();
            Assert.Equal(pod.ClusterAddress, status.Self);
            Assert.Contains(status.Leader, _pods.Select(p => p!.ClusterAddress));
        }

        output.WriteLine("checked: three node processes sharing one data folder formed one cluster, every one sees 3 Up");
        var (kv, broker, stop, load) = await StartLoadAsync("crash");

        await AwaitProgressAsync(kv, broker);
        output.WriteLine($"injected: SIGKILL {_pods[1]!.Name} with {kv.Acknowledged} writes and {broker.Acknowledged.Count} records acknowledged");
        var clock = Stopwatch.StartNew();
        await _pods[1]!.KillAsync();
        Assert.Equal(137, _pods[1]!.ExitCode);
        await Task.WhenAll(Running.Select(p => p.WaitForMembersAsync(Running, Convergence)));
        output.WriteLine($"survivors converged {clock.Elapsed.TotalSeconds:0.0}s after the kill");
        await AwaitProgressAsync(kv, broker);

        await stop.CancelAsync();
        await load;
        await CheckAsync(kv, broker);
    }

    /// <summary>
    /// The owner of a key's partition is paused (SIGSTOP) until the others have downed it and taken the partition
    /// over, a newer value is written through a survivor, and strong reads of the key are sent to the paused node,
    /// where they queue at its socket. Woken (SIGCONT), the node must not answer them from its old state: every
    /// answer is the new value or an error. Then it stops, having been downed.
    /// </summary>
    [Fact]
    public async Task A_paused_owner_woken_after_takeover_never_answers_a_strong_read_with_the_old_value()
    {
        await StartPodsAsync();
        const string key = "fence/probe";
        var shard = new GridMessageExtractor(Partitions).ShardId(KvKeys.EntityIdFor(key, Partitions), null);
        await WriteUntilAcknowledgedAsync(_pods[0]!, key, "old");
        var owner = await OwnerOfAsync(_pods[0]!, shard);
        var survivors = Running.Where(p => p != owner).ToArray();
        // The owner answers from its in-memory state: the value it will be tempted to serve after waking.
        Assert.Equal((200, "old"), await RawGetAsync(owner, key));
        output.WriteLine($"{key} is on shard {shard}, owned by {owner.Name}; it reads \"old\" there");

        var clock = Stopwatch.StartNew();
        owner.Pause();
        output.WriteLine($"injected: SIGSTOP {owner.Name}");
        await Task.WhenAll(survivors.Select(p => p.WaitForMembersAsync(survivors, Convergence)));
        output.WriteLine($"survivors removed {owner.Name} at {clock.Elapsed.TotalSeconds:0.0}s");
        await WriteUntilAcknowledgedAsync(survivors[0], key, "new");
        output.WriteLine($"\"new\" acknowledged through {survivors[0].Name} at {clock.Elapsed.TotalSeconds:0.0}s");

        // Connected and sent while the process is stopped: the kernel holds them until it wakes.
        var queued = new List<Socket>();
        for (var i = 0; i < 16; i++)
        {
            queued.Add(await SendRawGetAsync(owner, key));
        }

        owner.Resume();
        var woken = clock.Elapsed;
        output.WriteLine($"injected: SIGCONT {owner.Name} at {clock.Elapsed.TotalSeconds:0.0}s with {queued.Count} strong reads queued at its socket");
        var answers = await Task.WhenAll(queued.Select(ReadRawResponseAsync));
        // And fresh ones right after waking, racing whatever the node learns first.
        for (var i = 0; i < 16; i++)
        {
            answers = [.. answers, await RawGetAsync(owner, key)];
        }

        output.WriteLine("answers of the woken node: " + string.Join(", ", answers.GroupBy(a => a).Select(g => $"{g.Count()}x {g.Key.Status} {g.Key.Body}")));
        Assert.DoesNotContain(answers, a => a.Status == 200 && a.Body != "new");
        output.WriteLine("checked: no answer was the overwritten value");

        await owner.WaitForExitAsync(Convergence);
        output.WriteLine($"checked: the woken, downed node exited (code {owner.ExitCode}) {(clock.Elapsed - woken).TotalSeconds:0.0}s after waking");
        Assert.Equal((200, "new"), await RawGetAsync(survivors[1], key));
    }

    /// <summary>
    /// Takeover after a crash: the owner of a key's partition is SIGKILLed and the key written through a survivor
    /// until acknowledged; the time from the kill to that acknowledgement is the takeover (failure detection, the
    /// split-brain resolver's decision, the shard's move, its lease, recovery from the journal). The killed node is
    /// restarted at its address between rounds. <c>ACTORGRID_TAKEOVER_ROUNDS</c> rounds (default 1) and their median.
    /// </summary>
    [Fact]
    public async Task Takeover_after_sigkill_of_a_partition_owner()
    {
        var rounds = int.TryParse(System.Environment.GetEnvironmentVariable("ACTORGRID_TAKEOVER_ROUNDS"), out var r) ? r : 1;
        await StartPodsAsync();
        var samples = new List<TimeSpan>();
        for (var round = 0; round < rounds; round++)
        {
            var key = $"takeover/{round}";
            var shard = new GridMessageExtractor(Partitions).ShardId(KvKeys.EntityIdFor(key, Partitions), null);
            await WriteUntilAcknowledgedAsync(Running.First(), key, "before");
            var owner = await OwnerOfAsync(Running.First(), shard);
            var ordinal = Array.IndexOf(_pods, owner);
            var survivor = Running.First(p => p != owner);

            var clock = Stopwatch.StartNew();
            await owner.KillAsync();
            await WriteUntilAcknowledgedAsync(survivor, key, "after");
            samples.Add(clock.Elapsed);
            output.WriteLine($"round {round}: SIGKILL {owner.Name} (owner of shard {shard}); a write through {survivor.Name} acknowledged after {clock.Elapsed.TotalSeconds:0.00}s");

            _pods[ordinal] = null;
            await owner.DisposeAsync();
            _pods[ordinal] = StartPod(ordinal);
            await _pods[ordinal]!.WaitUntilReadyAsync(Convergence);
            await Task.WhenAll(Running.Select(p => p.WaitForMembersAsync(Running, Convergence)));
        }

        output.WriteLine($"takeover after SIGKILL over {samples.Count} rounds: median {Median(samples).TotalSeconds:0.00}s, min {samples.Min().TotalSeconds:0.00}s, max {samples.Max().TotalSeconds:0.00}s");
        Assert.All(samples, s => Assert.True(s < TimeSpan.FromSeconds(30), $"takeover took {s.TotalSeconds:0.0}s"));
    }

    /// <summary>
    /// The StatefulSet's rolling update on one machine: pods named like a StatefulSet's, every pod seeded with the
    /// first pods (pod-0 first, as <c>SeedDiscovery</c> derives them), restarted highest ordinal first with SIGTERM
    /// and brought back at the same address, each waiting for the cluster to be whole again.
    /// </summary>
    [Fact]
    public async Task Rolling_restart_highest_ordinal_first_loses_nothing_acknowledged()
    {
        await StartPodsAsync();
        var (kv, broker, stop, load) = await StartLoadAsync("rolling");
        await AwaitProgressAsync(kv, broker);

        var clock = Stopwatch.StartNew();
        for (var ordinal = _pods.Length - 1; ordinal >= 0; ordinal--)
        {
            var exit = await _pods[ordinal]!.StopAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, exit);
            output.WriteLine($"injected: SIGTERM actorgrid-{ordinal} (exit {exit}) at {clock.Elapsed.TotalSeconds:0.0}s");
            var stopped = _pods[ordinal]!;
            _pods[ordinal] = null;
            await stopped.DisposeAsync();
            _pods[ordinal] = StartPod(ordinal);
            await _pods[ordinal]!.WaitUntilReadyAsync(Convergence);
            await Task.WhenAll(Running.Select(p => p.WaitForMembersAsync(Running, Convergence)));
            output.WriteLine($"actorgrid-{ordinal} back and the cluster whole at {clock.Elapsed.TotalSeconds:0.0}s");
            await AwaitProgressAsync(kv, broker);
        }

        await stop.CancelAsync();
        await load;
        await CheckAsync(kv, broker);
        var outages = kv.LongestOutage;
        output.WriteLine(outages.Count == 0
            ? "no key was ever unavailable for writes"
            : $"longest write unavailability per key: max {outages.Values.Max().TotalSeconds:0.00}s, median {Median(outages.Values).TotalSeconds:0.00}s over {outages.Count} keys that saw one");
    }

    private async Task StartPodsAsync()
    {
        for (var ordinal = 0; ordinal < _pods.Length; ordinal++)
        {
            _pods[ordinal] = StartPod(ordinal);
        }

        await Task.WhenAll(_pods.Select(p => p!.WaitUntilReadyAsync(Convergence)));
        await Task.WhenAll(_pods.Select(p => p!.WaitForMembersAsync(_pods!, Convergence)));
    }

    private NodeProcess StartPod(int ordinal) => NodeProcess.Start(new NodeProcessOptions
    {
        Name = $"actorgrid-{ordinal}",
        DataDir = _data,
        RemotingPort = _remotingPorts[ordinal],
        HttpPort = _httpPorts[ordinal],
        Seeds = _remotingPorts.Select(p => $"127.0.0.1:{p}").ToList(),
        ExtraArgs = [$"--ActorGrid:Kv:Partitions={Partitions}"],
    });

    private async Task<(KvWriteLoad, BrokerProduceLoad, CancellationTokenSource, Task)> StartLoadAsync(string name)
    {
        var topic = $"{name}-{Guid.NewGuid():N}";
        await BrokerProduceLoad.CreateTopicAsync(_pods[0]!.Http, topic, TopicPartitions);
        var kv = new KvWriteLoad(() => Live, writers: 3, keysPerWriter: 6, prefix: $"{name}/");
        var broker = new BrokerProduceLoad(() => Live, topic, producers: 2);
        var stop = new CancellationTokenSource();
        return (kv, broker, stop, Task.WhenAll(kv.RunAsync(stop.Token), broker.RunAsync(stop.Token)));
    }

    /// <summary>Waits until the load has made fresh progress: some more writes and records acknowledged.</summary>
    private static async Task AwaitProgressAsync(KvWriteLoad kv, BrokerProduceLoad broker)
    {
        var (writes, records) = (kv.Acknowledged, broker.Acknowledged.Count);
        await Eventually.AwaitAsync(
            () => kv.Acknowledged >= writes + 30 && broker.Acknowledged.Count >= records + 30 ? null : $"{kv.Acknowledged} writes, {broker.Acknowledged.Count} records",
            TimeSpan.FromSeconds(60), "the load to make progress");
    }

    private async Task CheckAsync(KvWriteLoad kv, BrokerProduceLoad broker)
    {
        var reader = Running.First().Http;
        var writes = KvHistoryChecker.CheckAcknowledgedWritesReadable(kv.Operations, await kv.ReadAllAsync(reader));
        var log = BrokerHistoryChecker.Check(broker.Acknowledged, await broker.ReadAllAsync(reader, TopicPartitions));
        output.WriteLine($"checked: {kv.Operations.Count} KV calls ({kv.Acknowledged} acknowledged, {kv.Operations.Count(o => o.Outcome == Outcome.Unknown)} unanswered)");
        output.WriteLine(writes.ToString());
        output.WriteLine(log.ToString());
        writes.AssertValid();
        log.AssertValid();
    }

    private async Task<NodeProcess> OwnerOfAsync(NodeProcess via, string shard)
    {
        string? node = null;
        await via.AwaitWhileRunningAsync(async () =>
        {
            var shards = await via.Client.Cluster.GetShardsAsync();
            node = shards.Regions.Where(r => r.TypeName == "kv").SelectMany(r => r.Shards).FirstOrDefault(s => s.ShardId == shard)?.Node;
            return node is null ? $"shard {shard} not allocated" : null;
        }, Convergence, $"kv shard {shard} to be placed");
        return Running.Single(p => node!.EndsWith($":{p.RemotingPort}", StringComparison.Ordinal));
    }

    private static async Task WriteUntilAcknowledgedAsync(NodeProcess via, string key, string value) =>
        await via.AwaitWhileRunningAsync(async () =>
        {
            // Short attempts: a request sent to the old owner's region waits out the ask timeout.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using var response = await via.Http.PutAsync("kv/" + key, new StringContent(value), timeout.Token);
            return response.IsSuccessStatusCode ? null : $"PUT answered {(int)response.StatusCode}";
        }, Convergence, $"PUT {key}={value} to be acknowledged");

    private static async Task<(int Status, string Body)> RawGetAsync(NodeProcess node, string key)
    {
        try
        {
            return await ReadRawResponseAsync(await SendRawGetAsync(node, key));
        }
        catch (SocketException e)
        {
            return (0, e.SocketErrorCode.ToString());
        }
    }

    /// <summary>A strong GET written to a fresh connection; returns once the request is in the socket's buffers.</summary>
    private static async Task<Socket> SendRawGetAsync(NodeProcess node, string key)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", node.HttpPort);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /kv/{key} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
        return socket;
    }

    /// <summary>Status and body of the answer, or (0, error) when the connection failed or gave none in 30 s.</summary>
    private static async Task<(int Status, string Body)> ReadRawResponseAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                var received = new MemoryStream();
                var buffer = new byte[4096];
                int n;
                while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
                {
                    received.Write(buffer, 0, n);
                }

                var text = Encoding.UTF8.GetString(received.ToArray());
                var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (split < 0 || text.Length < 12)
                {
                    return (0, "no answer");
                }

                var status = int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
                return (status, status == 200 ? text[(split + 4)..] : "");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                return (0, e.GetType().Name);
            }
        }
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var pod in _pods.Where(p => p is not null))
        {
            output.WriteLine(pod!.Diagnostics(20));
            await pod.DisposeAsync();
        }

        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
