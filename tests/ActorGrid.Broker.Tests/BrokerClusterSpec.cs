using System.Collections.Concurrent;
using System.Net;
using ActorGrid.Client;
using ActorGrid.Configuration;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Histories;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Xunit.Abstractions;
using TopicPartition = ActorGrid.Client.TopicPartition;

namespace ActorGrid.Broker.Tests;

/// <summary>The broker on three in-process nodes over real remoting and one journal, with crashes.</summary>
public sealed class BrokerClusterSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task A_group_polling_through_two_nodes_consumes_what_a_third_produced_resumes_from_commits_and_drops_a_silent_member()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithBroker(), Kit());
        var producer = cluster[0].Client.Broker;
        await producer.CreateTopicAsync("orders", 4);
        var produced = new List<string>();
        for (var batch = 0; batch < 10; batch++)
        {
            var records = Enumerable.Range(0, 20).Select(i => ProducerRecord.Text($"k{i}", $"v{batch * 20 + i}")).ToList();
            await producer.ProduceAsync("orders", records, "producer-1", batch * 20);
            produced.AddRange(records.Select(r => r.Value!));
        }

        // Two members, polling through nodes 1 and 2.
        var viaB = cluster[1].Client.Broker;
        var viaC = cluster[2].Client.Broker;
        var a = await viaB.JoinGroupAsync("billing", ["orders"], sessionTimeoutMs: 5000);
        var b = await viaC.JoinGroupAsync("billing", ["orders"], sessionTimeoutMs: 5000);
        Assert.Equal(b.Generation, a.Generation + 1);

        var consumed = new ConcurrentBag<GroupRecord>();
        var byMember = new ConcurrentDictionary<string, int>();
        await Task.WhenAll(
            ConsumeUntilAsync(viaB, a.MemberId, consumed, byMember, () => consumed.Count >= produced.Count),
            ConsumeUntilAsync(viaC, b.MemberId, consumed, byMember, () => consumed.Count >= produced.Count));

        Assert.Equal(produced.Order(), consumed.Select(r => r.Value!).Order());
        Assert.True(byMember[a.MemberId] > 0 && byMember[b.MemberId] > 0, "both members must have consumed");
        foreach (var partition in consumed.GroupBy(r => r.Partition))
        {
            Assert.Equal(partition.Select(r => r.Offset).Order(), partition.Select(r => r.Offset).Distinct().Order());
        }

        var group = await viaB.GetGroupAsync("billing");
        Assert.Equal(0, group.TotalLag);
        Assert.Equal(4, group.Offsets.Count(o => o.Committed is not null));

        // A consumer that restarts (new member, same group) resumes from the committed offsets.
        await viaB.LeaveGroupAsync("billing", a.MemberId);
        await viaC.LeaveGroupAsync("billing", b.MemberId);
        var later = Enumerable.Range(0, 12).Select(i => ProducerRecord.Text($"k{i}", $"later{i}")).ToList();
        await producer.ProduceAsync("orders", later);
        var restarted = await viaC.JoinGroupAsync("billing", ["orders"], sessionTimeoutMs: 5000);
        var resumed = new ConcurrentBag<GroupRecord>();
        await ConsumeUntilAsync(viaC, restarted.MemberId, resumed, new(), () => resumed.Count >= later.Count);
        Assert.Equal(later.Select(r => r.Value!).Order(), resumed.Select(r => r.Value!).Order());

        // A member that stops polling is dropped after its session timeout and its partitions move to the others.
        var silent = await viaB.JoinGroupAsync("billing", ["orders"], sessionTimeoutMs: 1000);
        Assert.Equal(2, (await viaB.GetGroupAsync("billing")).Members.Count);
        IReadOnlyList<TopicPartition> assignments = [];
        await Eventually.AwaitAsync(async () =>
        {
            var poll = await viaC.PollAsync("billing", restarted.MemberId, waitMs: 100);
            assignments = poll.Assignments;
            return assignments.Count == 4 ? null : $"the live member has {assignments.Count} partitions";
        }, Deadline, "the silent member to be rebalanced away");
        var info = await viaC.GetGroupAsync("billing");
        Assert.Equal([restarted.MemberId], info.Members.Select(m => m.MemberId));
        var refused = await Assert.ThrowsAsync<ActorGridException>(() => viaB.CommitAsync("billing", silent.MemberId, [new TopicOffset("orders", 0, 1)]));
        Assert.Equal(HttpStatusCode.NotFound, refused.Status);
    }

    [Fact]
    public async Task Acknowledged_records_survive_a_crash_of_the_partition_owner_once_each_in_order_and_retries_do_not_duplicate()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithBroker(), Kit());
        await cluster[0].Client.Broker.CreateTopicAsync("events", 2);
        // Place the partitions (the first message starts their entities), then find who owns partition 0.
        await cluster[0].Client.Broker.ProduceAsync("events", [ProducerRecord.Text("warm-0", "warm-0"), ProducerRecord.Text("warm-1", "warm-1")]);
        var owner = await OwnerOfAsync(cluster, "t/events/0");
        var survivors = cluster.Nodes.Where(n => n.Index != owner).ToList();
        output.WriteLine($"partition 0 lives on node{owner}; producing through node{survivors[0].Index} and node{survivors[1].Index}");

        var acknowledged = new ConcurrentBag<ProducedRecord>();
        var lastRequests = new ConcurrentDictionary<string, IReadOnlyList<RecordPosition>>();
        var retries = 0;
        const int RequestsPerProducer = 30;
        const int RecordsPerRequest = 10;
        using var crashAfter = new SemaphoreSlim(0);

        async Task ProduceAsync(string producerId, IBrokerClient client)
        {
            for (var request = 0; request < RequestsPerProducer; request++)
            {
                var sequence = request * RecordsPerRequest;
                var values = Enumerable.Range(0, RecordsPerRequest).Select(i => $"{producerId}-{sequence + i}").ToList();
                var results = await RetryAsync(() => client.ProduceAsync("events", values.Select(v => ProducerRecord.Text(null, v)), producerId, sequence), () => Interlocked.Increment(ref retries));
                for (var i = 0; i < values.Count; i++)
                {
                    acknowledged.Add(new ProducedRecord("events", results[i].Partition, results[i].Offset, values[i], producerId, sequence + i));
                }

                lastRequests[producerId] = results;

                if (request == 5)
                {
                    crashAfter.Release();
                }
            }
        }

        var producing = Task.WhenAll(ProduceAsync("p1", survivors[0].Client.Broker), ProduceAsync("p2", survivors[1].Client.Broker));
        await crashAfter.WaitAsync(Deadline);
        await cluster.CrashAsync(owner);
        await producing.WaitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"{acknowledged.Count} records acknowledged, {retries} request retries");

        // Retrying the last request (as a client does whose answer was lost) returns the original positions and
        // appends nothing, also on the node that took the partition over.
        var reader = survivors[0].Client.Broker;
        var endsBefore = (await reader.GetTopicAsync("events")).Partitions.Select(p => p.EndOffset).ToList();
        const int LastSequence = (RequestsPerProducer - 1) * RecordsPerRequest;
        var again = await reader.ProduceAsync(
            "events", Enumerable.Range(0, RecordsPerRequest).Select(i => ProducerRecord.Text(null, $"p1-{LastSequence + i}")), "p1", LastSequence);
        Assert.Equal(lastRequests["p1"], again);
        Assert.Equal(endsBefore, (await reader.GetTopicAsync("events")).Partitions.Select(p => p.EndOffset));

        var log = new List<ConsumedRecord>();
        for (var partition = 0; partition < 2; partition++)
        {
            long offset = 0;
            while (offset < endsBefore[partition])
            {
                var page = await reader.FetchAsync("events", partition, offset, max: 1000);
                log.AddRange(page.Records.Select(r => new ConsumedRecord("events", partition, r.Offset, r.Value!)));
                offset = page.NextOffset;
            }
        }

        var check = BrokerHistoryChecker.Check([.. acknowledged], [.. log.Where(r => !r.Value.StartsWith("warm", StringComparison.Ordinal))]);
        output.WriteLine(check.ToString());
        check.AssertValid();
        Assert.Equal(2 * RequestsPerProducer * RecordsPerRequest, acknowledged.Count);
        Assert.Equal(acknowledged.Count + 2, log.Count);
    }

    [Fact]
    public async Task A_graceful_leave_of_the_partition_owner_loses_and_duplicates_nothing()
    {
        await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithBroker(), Kit());
        await cluster[0].Client.Broker.CreateTopicAsync("leaving", 1);
        await cluster[0].Client.Broker.ProduceTextAsync("leaving", null, "first");
        var owner = await OwnerOfAsync(cluster, "t/leaving/0");
        var producers = cluster.Nodes.Where(n => n.Index != owner).ToList();
        output.WriteLine($"partition 0 lives on node{owner}, which leaves while node{producers[0].Index} and node{producers[1].Index} produce");

        // The entity finishes its write in flight before it stops; a request that sharding drops while the shard
        // moves (Akka delivers at most once) times out and is retried under the same producer sequence.
        var acknowledged = new ConcurrentBag<ProducedRecord>();
        var retries = 0;
        var started = new SemaphoreSlim(0);
        var producing = Task.WhenAll(Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            var client = producers[p % 2].Client.Broker;
            for (var i = 0; i < 40; i++)
            {
                var value = $"p{p}-{i}";
                var position = (await RetryAsync(() => client.ProduceAsync("leaving", [ProducerRecord.Text(null, value)], $"p{p}", i), () => Interlocked.Increment(ref retries)))[0];
                acknowledged.Add(new ProducedRecord("leaving", position.Partition, position.Offset, value, $"p{p}", i));
                if (i == 5)
                {
                    started.Release();
                }
            }
        })));
        await started.WaitAsync(Deadline);
        await cluster.LeaveAsync(owner);
        await producing.WaitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"{acknowledged.Count} records acknowledged, {retries} request retries");

        var page = await producers[0].Client.Broker.FetchAsync("leaving", 0, 0, max: 1000);
        var log = page.Records.Where(r => r.Value != "first").Select(r => new ConsumedRecord("leaving", 0, r.Offset, r.Value!)).ToList();
        BrokerHistoryChecker.Check([.. acknowledged], log).AssertValid();
        Assert.Equal(160, log.Count);
        Assert.Equal(Enumerable.Range(0, page.Records.Count).Select(i => (long)i), page.Records.Select(r => r.Offset));
    }

    [Fact]
    public async Task Pages_of_records_with_long_escaped_keys_produced_and_fetched_through_a_non_owner_fit_the_remoting_frame()
    {
        // 1000 records whose keys JSON escapes to 6 KB each: 6 MB serialized against a 2.25 MB frame. Cut by value
        // bytes (1 byte each) they went in one command and one page, which the transport dropped: a 503 forever.
        await using var cluster = await GridTestCluster.StartAsync(2, grid => grid.WithBroker(s => s with { TailMaxRecords = 400 }), Kit());
        await cluster[0].Client.Broker.CreateTopicAsync("wide", 1);
        await cluster[0].Client.Broker.ProduceAsync("wide", [ProducerRecord.Text(null, "warm")]);
        var owner = await OwnerOfAsync(cluster, "t/wide/0");
        var remote = cluster.Nodes.Single(n => n.Index != owner).Client.Broker;
        var key = new string('<', 1000);
        await remote.ProduceAsync("wide", Enumerable.Range(0, 1000).Select(i => ProducerRecord.Text(key, $"{i}")));

        // The first 601 records come from the journal (the tail holds 400), the rest from memory; every page crosses the network.
        var read = new List<string>();
        var pages = 0;
        for (long offset = 1; offset < 1001; pages++)
        {
            var page = await remote.FetchAsync("wide", 0, offset, max: 1000);
            Assert.Equal(offset, page.Records[0].Offset);
            read.AddRange(page.Records.Select(r => r.Value!));
            offset = page.NextOffset;
        }

        output.WriteLine($"1000 records read through node{cluster.Nodes.Single(n => n.Index != owner).Index} in {pages} pages");
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"{i}"), read);
        Assert.InRange(pages, 3, 10);
    }

    [Fact]
    public Task Catch_up_reads_page_from_the_journal_and_retention_keeps_the_start_truthful_across_a_restart() =>
        CatchUpAndRetentionAsync(PersistenceProvider.Sqlite);

    [PostgresFact]
    public Task On_PostgreSQL_catch_up_reads_page_from_the_journal_and_retention_keeps_the_start_truthful_across_a_restart() =>
        CatchUpAndRetentionAsync(PersistenceProvider.PostgreSql);

    private async Task CatchUpAndRetentionAsync(PersistenceProvider provider)
    {
        var kit = Kit() with { Provider = provider, Configure = (_, o) => o with { Persistence = o.Persistence with { SnapshotEvery = 50 } } };
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithBroker(s => s with { TailMaxRecords = 40 }), kit);
        var broker = cluster[0].Client.Broker;
        await broker.CreateTopicAsync("history", 1);
        await broker.CreateTopicAsync("recent", 1, retentionMessages: 100);
        for (var batch = 0; batch < 6; batch++)
        {
            var records = Enumerable.Range(0, 50).Select(i => ProducerRecord.Text(null, $"r{batch * 50 + i}")).ToList();
            await broker.ProduceAsync("history", records);
            await broker.ProduceAsync("recent", records);
        }

        // Only the last 40 records are in memory: the first 260 come from the journal, page by page, in order.
        var read = new List<string>();
        long next = 0;
        while (next < 300)
        {
            var page = await broker.FetchAsync("history", 0, next, max: 70);
            Assert.Equal(next, page.Records[0].Offset);
            read.AddRange(page.Records.Select(r => r.Value!));
            next = page.NextOffset;
        }

        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"r{i}"), read);

        var recent = (await broker.GetTopicAsync("recent")).Partitions[0];
        Assert.Equal((200L, 300L), (recent.StartOffset, recent.EndOffset));
        var below = await Assert.ThrowsAsync<ActorGridException>(() => broker.FetchAsync("recent", 0, 150));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, below.Status);
        Assert.Equal("r200", (await broker.FetchAsync("recent", 0)).Records[0].Value);
        if (provider == PersistenceProvider.Sqlite)
        {
            // Retention reclaims space: after a snapshot carries the new start, the rows below it leave the journal
            // (Akka.Persistence.Sql keeps the highest deleted row as a marker).
            var connection = SqliteJournalFile.ConnectionStringFor(cluster[0].Options.DataDir);
            await Eventually.AwaitAsync(() =>
            {
                var rows = JournalRows(connection, "broker/partition/recent/0");
                return rows <= 101 ? null : $"{rows} rows still in the journal";
            }, Deadline, "retention to delete journal rows");
            Assert.Equal(300, JournalRows(connection, "broker/partition/history/0"));
        }

        // After a crash the partition recovers from its snapshot and journal: the start stays where retention put it.
        await cluster.CrashAsync(0);
        broker = (await cluster.RestartAsync(0)).Client.Broker;
        await Eventually.AwaitAsync(async () =>
        {
            var p = (await broker.GetTopicAsync("recent")).Partitions[0];
            return (p.StartOffset, p.EndOffset) == (200L, 300L) ? null : $"offsets {p.StartOffset}..{p.EndOffset}";
        }, Deadline, "the recovered partition");
        // A fetch may answer with less than max (one journal page); read on until the end.
        var retained = new List<string>();
        for (long offset = 200; offset < 300;)
        {
            var page = await broker.FetchAsync("recent", 0, offset, max: 1000);
            Assert.Equal(offset, page.Records[0].Offset);
            retained.AddRange(page.Records.Select(r => r.Value!));
            offset = page.NextOffset;
        }

        Assert.Equal(Enumerable.Range(200, 100).Select(i => $"r{i}"), retained);
        var history = await broker.FetchAsync("history", 0, 0, max: 5);
        Assert.Equal(["r0", "r1", "r2", "r3", "r4"], history.Records.Select(r => r.Value!));
    }

    private static long JournalRows(string connectionString, string persistenceId)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $id";
        command.Parameters.AddWithValue("$id", persistenceId);
        return (long)command.ExecuteScalar()!;
    }

    private GridTestClusterOptions Kit() => new() { Log = output.WriteLine };

    private static async Task ConsumeUntilAsync(
        IBrokerClient client, string memberId, ConcurrentBag<GroupRecord> consumed, ConcurrentDictionary<string, int> byMember, Func<bool> done)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"member {memberId} timed out with {consumed.Count} records consumed");
            var poll = await client.PollAsync("billing", memberId, max: 50, waitMs: 200);
            foreach (var record in poll.Records)
            {
                consumed.Add(record);
            }

            if (poll.Records.Count > 0)
            {
                byMember.AddOrUpdate(memberId, poll.Records.Count, (_, n) => n + poll.Records.Count);
                await client.CommitAsync("billing", memberId, poll.Records);
            }
        }
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> call, Action onRetry)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e is ActorGridException { Status: HttpStatusCode.ServiceUnavailable } or HttpRequestException or TaskCanceledException
                                      && DateTime.UtcNow < deadline)
            {
                onRetry();
            }
        }
    }

    private static async Task<int> OwnerOfAsync(GridTestCluster cluster, string entityId)
    {
        foreach (var node in cluster.Nodes)
        {
            var region = ActorRegistry.For(node.System).Get<TopicPartitionRegion>();
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
            if (state.Shards.Any(s => s.EntityIds.Contains(entityId)))
            {
                return node.Index;
            }
        }

        throw new InvalidOperationException($"no node hosts {entityId}");
    }
}
