using System.Text;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue.Tests;

/// <summary>One partition entity on a one-node grid with a real SQLite journal.</summary>
public sealed class KvPartitionSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private GridTestClusterOptions Kit => new()
    {
        Log = output.WriteLine,
        Configure = (_, o) => o with { Kv = o.Kv with { Partitions = 4 }, Persistence = o.Persistence with { SnapshotEvery = 100 } },
    };

    [Fact]
    public async Task Concurrent_writes_are_group_committed_and_each_gets_its_own_version()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue(), Kit);
        var region = ActorRegistry.For(cluster[0].System).Get<KvPartitionRegion>();
        var entity = KvKeys.EntityIdFor("hot", 4);

        var replies = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
            region.Ask<WriteResult>(new Put(entity, "hot", Encoding.UTF8.GetBytes(i.ToString()), Precondition.None, null), AskTimeout)));

        Assert.All(replies, r => Assert.Equal(WriteStatus.Written, r.Status));
        Assert.Equal(Enumerable.Range(1, 1000).Select(v => (long)v), replies.Select(r => r.Version).Order());

        var stats = await region.Ask<PartitionStatsResult>(new GetPartitionStats(entity), AskTimeout);
        output.WriteLine($"1000 writes in {stats.Batches} journal writes");
        Assert.Equal(1000, stats.Events);
        Assert.True(stats.Batches < 500, $"{stats.Batches} journal writes for 1000 concurrent puts: no group commit");

        var read = await region.Ask<GetResult>(new Get(entity, "hot"), AskTimeout);
        Assert.Equal(1000, read.Version);
    }

    [Fact]
    public async Task Local_reads_see_every_acknowledged_write_and_stop_when_the_partition_stops()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue(), Kit);
        var store = cluster[0].Services.GetRequiredService<KvStore>();
        var region = ActorRegistry.For(cluster[0].System).Get<KvPartitionRegion>();
        var entity = KvKeys.EntityIdFor("local", 4);
        Assert.False(store.TryReadLocally("local", out _)); // not started yet: the read goes through the region

        // Published before the acknowledgement: a read right after each ack sees it, never an older version.
        for (var i = 1; i <= 200; i++)
        {
            var written = await region.Ask<WriteResult>(new Put(entity, "local", Encoding.UTF8.GetBytes("v" + i), Precondition.None, null), AskTimeout);
            Assert.True(store.TryReadLocally("local", out var read), "the partition runs here and holds its lease");
            Assert.Equal(written.Version, read.Version);
            Assert.Equal("v" + i, Encoding.UTF8.GetString(read.Value!));
        }

        await cluster.LeaveAsync(0);
        Assert.False(store.TryReadLocally("local", out _)); // handed off: never served from a stopped incarnation
    }

    [Fact]
    public async Task A_restarted_partition_recovers_from_its_snapshot_and_the_events_after_it()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue(), Kit);
        var region = ActorRegistry.For(cluster[0].System).Get<KvPartitionRegion>();
        var entity = KvKeys.EntityIdFor("snap/a", 4);
        var written = 0;
        async Task WriteAsync(int count)
        {
            for (var end = written + count; written < end;)
            {
                written++;
                var key = written % 2 == 0 ? "snap/a" : "snap/b-" + written;
                if (KvKeys.EntityIdFor(key, 4) != entity)
                {
                    key = "snap/a";
                }

                await region.Ask<WriteResult>(new Put(entity, key, Encoding.UTF8.GetBytes("v" + written), Precondition.None, null), AskTimeout);
            }
        }

        // Snapshots fall due every 100 events; one that falls due while the previous one is still being saved is
        // taken when that one lands, so a slow snapshot store delays the snapshot at 200 but does not skip it.
        await WriteAsync(200);
        await Eventually.AwaitAsync(async () =>
        {
            var saved = (await region.Ask<PartitionStatsResult>(new GetPartitionStats(entity), AskTimeout)).SavedSnapshot;
            return saved == 200 ? null : $"newest saved snapshot at {saved}";
        }, TimeSpan.FromSeconds(20), "a snapshot of the first 200 events");
        await WriteAsync(50); // fewer than a snapshot's worth: recovery replays these

        var before = await region.Ask<PartitionStatsResult>(new GetPartitionStats(entity), AskTimeout);
        var valueBefore = await region.Ask<GetResult>(new Get(entity, "snap/a"), AskTimeout);

        await cluster.LeaveAsync(0);
        await cluster.RestartAsync(0);
        region = ActorRegistry.For(cluster[0].System).Get<KvPartitionRegion>();

        var after = await region.Ask<PartitionStatsResult>(new GetPartitionStats(entity), AskTimeout);
        var valueAfter = await region.Ask<GetResult>(new Get(entity, "snap/a"), AskTimeout);
        Assert.Equal(250, after.SequenceNr);
        Assert.Equal(before.Keys, after.Keys);
        Assert.Equal(200, after.RecoveredFromSnapshot);
        Assert.Equal(valueBefore.Version, valueAfter.Version);
        Assert.Equal(valueBefore.Value, valueAfter.Value);

        var next = await region.Ask<WriteResult>(new Put(entity, "snap/a", [1], Precondition.ForVersion(valueAfter.Version), null), AskTimeout);
        Assert.Equal(valueAfter.Version + 1, next.Version);
    }

    [Fact]
    public async Task Every_kv_message_survives_the_grid_serializer()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue(), Kit);
        var registry = new ManifestRegistry();
        KvProtocol.RegisterManifests(registry);

        var checkedManifests = SerializationChecks.AssertRoundTripsAll(cluster[0].System, registry);

        Assert.Equal(registry.Entries.Count, checkedManifests.Count);
    }

    [Fact]
    public async Task Snapshots_and_events_stored_by_earlier_versions_keep_loading()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue(), Kit);

        var read = SerializationChecks.AssertGoldenPayloads(cluster[0].System, Path.Combine(AppContext.BaseDirectory, "Golden"),
            ["kv.partition-snapshot.v1", "kv.value-written.v1", "kv.value-deleted.v1"]);

        var state = KvPartitionState.FromSnapshot((PartitionSnapshot)read["kv.partition-snapshot.v1"]);
        Assert.Equal(new Entry("a", 1, null, null), state.Find("a"));
        Assert.Equal("value"u8.ToArray(), state.Read("b/c", 0).Value);
        Assert.Equal(4102444800000, state.Find("t")!.ExpiresAtUnixMs);
        var written = (ValueWritten)read["kv.value-written.v1"];
        Assert.Equal(4, state.Apply(written).Find("b/c")!.Version);
        Assert.Null(state.Apply(written).Apply(read["kv.value-deleted.v1"]).Find("b/c")!.Value);

        // Written before Idempotency-Key: nothing remembered, and a write without a key keeps the old bytes.
        Assert.Null(written.Idempotency);
        Assert.Equal(0, state.Writes.Count);
        var serializer = cluster[0].System.Serialization.FindSerializerFor(written);
        Assert.DoesNotContain("Idempotency", System.Text.Encoding.UTF8.GetString(serializer.ToBinary(written)));

        // With Idempotency-Key: the events and the snapshot bring the remembered writes back.
        var keyedWrite = (ValueWritten)read["kv.value-written.v1+idempotency"];
        Assert.Equal(new IdempotencyRecord("req-1", -4280130389342017012, 1700000000000), keyedWrite.Idempotency);
        var replayed = KvPartitionState.Empty.Apply(keyedWrite).Apply(read["kv.value-deleted.v1+idempotency"]);
        Assert.Equal(2, replayed.Writes.Count);
        Assert.Equal(new WriteResult(WriteStatus.Deleted, 6), replayed.Writes.Recall("b/c", "req-2", 1234567890123, 1700000002000));
        var keyedSnapshot = KvPartitionState.FromSnapshot((PartitionSnapshot)read["kv.partition-snapshot.v1+idempotency"]);
        Assert.Equal(new WriteResult(WriteStatus.Written, 4), keyedSnapshot.Writes.Recall("b/c", "req-1", -4280130389342017012, 1700000002000));
        Assert.Equal(new WriteResult(WriteStatus.Deleted, 1), keyedSnapshot.Writes.Recall("a", "req-2", 1234567890123, 1700000002000));
    }
}
