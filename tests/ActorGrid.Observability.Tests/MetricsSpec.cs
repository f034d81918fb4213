using System.Globalization;
using ActorGrid.Client;
using ActorGrid.TestKit;
using Xunit.Abstractions;

namespace ActorGrid.Observability.Tests;

/// <summary>
/// KV, broker and MapReduce work on a three-node grid, then every node's <c>GET /metrics</c> (Prometheus text from
/// the OpenTelemetry exporter) must carry the named series with values that follow from that work.
/// </summary>
public sealed class MetricsSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_node_exports_the_named_series_with_values_that_follow_from_the_workload()
    {
        await using var cluster = await GridUnderTest.StartAsync(output.WriteLine);
        var edge = cluster.Nodes[0].Client;

        // KV: 400 concurrent PUTs into few partitions, so that writes queue behind each other and group-commit.
        var puts = Enumerable.Range(0, 400).Select(i => edge.Kv.PutAsync($"m/{i % 40}/{i}", $"value-{i}"));
        await Task.WhenAll(puts);

        // Broker: 120 records on 2 partitions; a consumer group reads some, commits, then catches up.
        await edge.Broker.CreateTopicAsync("events", partitions: 2);
        foreach (var batch in Enumerable.Range(0, 120).Select(i => ProducerRecord.Text($"k{i}", $"v{i}")).Chunk(30))
        {
            await cluster.Nodes[1].Client.Broker.ProduceAsync("events", batch);
        }

        var consumer = cluster.Nodes[2].Client.Broker;
        var member = await consumer.JoinGroupAsync("readers", ["events"]);
        var first = await consumer.PollAsync("readers", member.MemberId, max: 20, waitMs: 2000);
        Assert.NotEmpty(first.Records);
        await consumer.CommitAsync("readers", member.MemberId, first.Records);
        await AwaitSeriesAsync(cluster, "a positive lag for group readers", scrape =>
        {
            var lag = scrape.Sum("actorgrid_broker_consumer_lag", ("actorgrid_group", "readers"));
            return lag >= 120 - first.Records.Count ? null : $"lag {lag}";
        });

        // MapReduce: a word count over inline text.
        var text = string.Join("\n", Enumerable.Range(0, 300).Select(i => $"alpha beta gamma {i % 7}"));
        var jobId = await edge.Jobs.SubmitAsync(new JobRequest("wordcount", JobInput.FromText(text), Reducers: 2));
        Assert.Equal("Completed", (await edge.Jobs.WaitAsync(jobId).WaitAsync(TimeSpan.FromSeconds(60))).State);

        // The consumer catches up and commits: lag falls to 0.
        var read = first.Records.Count;
        while (read < 120)
        {
            var poll = await consumer.PollAsync("readers", member.MemberId, max: 100, waitMs: 1000);
            read += poll.Records.Count;
            if (poll.Records.Count > 0)
            {
                await consumer.CommitAsync("readers", member.MemberId, poll.Records);
            }
        }

        await AwaitSeriesAsync(cluster, "lag 0 for every partition of group readers", scrape =>
        {
            var lags = scrape.Named("actorgrid_broker_consumer_lag", ("actorgrid_group", "readers")).ToList();
            return lags.Count == 2 && lags.All(l => l.Value == 0) ? null : $"lags {string.Join(",", lags.Select(l => l.Value))}";
        });

        var scrapes = await GridUnderTest.ScrapeAllAsync(cluster);
        var all = new PrometheusText([.. scrapes.SelectMany(s => s.Samples)]);
        Print(all, "actorgrid_");

        // Journal: group commit under concurrency carries several events per write.
        var kv = ("actorgrid_entity", "kv.partition");
        var kvEvents = all.Sum("actorgrid_journal_write_events_sum", kv);
        var kvWrites = all.Sum("actorgrid_journal_write_events_count", kv);
        Assert.Equal(400, kvEvents);
        Assert.True(kvEvents / kvWrites > 1, $"{kvEvents} KV events in {kvWrites} writes: no group commit seen");
        Assert.Equal(kvWrites, all.Sum("actorgrid_journal_writes_total", kv, ("actorgrid_outcome", "ok")));
        Assert.True(all.Sum("actorgrid_journal_write_duration_seconds_count", kv) == kvWrites);
        Assert.True(all.Sum("actorgrid_journal_write_duration_seconds_sum", kv) > 0);
        Assert.True(all.Sum("actorgrid_journal_writes_total", ("actorgrid_entity", "broker.partition")) > 0);
        // Every entity write went through a journal transaction, several writes to one when they met.
        Assert.True(all.Sum("actorgrid_journal_transaction_writes_sum") >= kvWrites, "journal transactions carried fewer writes than the KV partitions made");
        Assert.True(all.Sum("actorgrid_journal_transaction_writes_count") > 0, "no journal transaction recorded");
        Assert.Equal(all.Sum("actorgrid_journal_transaction_writes_count"), all.Sum("actorgrid_journal_transaction_duration_seconds_count"));
        Assert.True(all.Sum("actorgrid_journal_transaction_duration_seconds_sum") > 0, "journal transactions took no time");
        Assert.True(all.Sum("actorgrid_journal_writes_total", ("actorgrid_entity", "mapreduce.job")) > 0);

        // Front door: every PUT counted once, at the node that received it, by operation and outcome.
        var putSeries = ("actorgrid_operation", "PUT /kv/{**key}");
        Assert.Equal(400, scrapes[0].Sum("actorgrid_kv_request_duration_seconds_count", putSeries, ("actorgrid_door", "http"), ("actorgrid_outcome", "ok")));
        Assert.Equal(0, scrapes[1].Sum("actorgrid_kv_request_duration_seconds_count", putSeries));
        Assert.True(scrapes[0].Named("http_server_request_duration_seconds_count").Any(), "ASP.NET Core's own meter is missing");

        // Broker: 120 records produced (counted by the owning partitions), at least 120 fetched through the group.
        Assert.Equal(120, all.Sum("actorgrid_broker_records_produced_total", ("actorgrid_topic", "events")));
        Assert.True(all.Sum("actorgrid_broker_records_fetched_total", ("actorgrid_topic", "events"), ("actorgrid_fetch", "group")) >= 120);

        // MapReduce: one job submitted and completed, map attempts started, shuffle bytes sent.
        Assert.Equal(1, all.Sum("actorgrid_mapreduce_jobs_submitted_total", ("actorgrid_job_type", "wordcount")));
        Assert.Equal(1, all.Sum("actorgrid_mapreduce_jobs_finished_total", ("actorgrid_outcome", "completed")));
        Assert.True(all.Sum("actorgrid_mapreduce_map_attempts_total") >= 1);
        Assert.Equal(2, all.Sum("actorgrid_mapreduce_reduce_tasks_completed_total"));
        Assert.True(all.Samples.Where(s => s.Name.StartsWith("actorgrid_mapreduce_shuffle_bytes", StringComparison.Ordinal)).Sum(s => s.Value) > 0);

        // Cluster: each node sees 3 Up members and none unreachable; shards and entities are placed on the nodes.
        foreach (var scrape in scrapes)
        {
            Assert.Equal(3, scrape.Sum("actorgrid_cluster_members", ("actorgrid_member_status", "Up")));
            Assert.Equal(0, scrape.Sum("actorgrid_cluster_members_unreachable"));
        }

        Assert.Equal(1, all.Sum("actorgrid_cluster_leader"));
        await AwaitSeriesAsync(cluster, "KV entities on the nodes", scrape =>
            scrape.Sum("actorgrid_cluster_entities", ("actorgrid_shard_type", "kv")) > 0 ? null : "none yet", everyNode: false);

        // Runtime instrumentation is exported too.
        Assert.Contains(scrapes[0].Samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
    }

    /// <summary>Waits until <paramref name="check"/> passes on the merged scrape of every node.</summary>
    private static Task AwaitSeriesAsync(GridTestCluster cluster, string what, Func<PrometheusText, string?> check, bool everyNode = false) =>
        Eventually.AwaitAsync(async () =>
        {
            var scrapes = await GridUnderTest.ScrapeAllAsync(cluster);
            return everyNode
                ? scrapes.Select(check).FirstOrDefault(r => r is not null)
                : check(new PrometheusText([.. scrapes.SelectMany(s => s.Samples)]));
        }, TimeSpan.FromSeconds(30), what);

    private void Print(PrometheusText all, string prefix)
    {
        foreach (var group in all.Samples.Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal) && !s.Name.EndsWith("_bucket", StringComparison.Ordinal))
                     .GroupBy(s => s.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{group.Key} = {group.Sum(s => s.Value).ToString(CultureInfo.InvariantCulture)} ({group.Count()} series)");
        }
    }
}
