using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Hosting;
using Microsoft.Extensions.Configuration;

namespace ActorGrid.Core.Tests;

public sealed class ConfigurationSpec
{
    private static ActorGridOptions Bind(params (string Key, string Value)[] values) =>
        ActorGridOptionsValidator.Bind(new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build());

    [Theory]
    [InlineData("ActorGrid:Port", "70000", "ActorGrid:Port")]
    [InlineData("ActorGrid:Port", "abc", "ActorGrid:Port")]
    [InlineData("ActorGrid:Kv:Partitions", "0", "ActorGrid:Kv:Partitions")]
    [InlineData("ActorGrid:Seeds:0", "no-port", "ActorGrid:Seeds:0")]
    [InlineData("ActorGrid:Persistence:Provider", "Oracle", "ActorGrid:Persistence:Provider")]
    [InlineData("ActorGrid:Persistence:Provider", "PostgreSql", "ActorGrid:Persistence:ConnectionString")]
    [InlineData("ActorGrid:FailureDetection:HeartbeatInterval", "soon", "ActorGrid:FailureDetection:HeartbeatInterval")]
    [InlineData("ActorGrid:Prot", "4053", "Prot")]
    [InlineData("ActorGrid:ClusterName", "has space", "ActorGrid:ClusterName")]
    public void Bad_configuration_fails_with_one_line_naming_the_key(string key, string value, string named)
    {
        var error = Assert.Throws<ActorGridConfigurationException>(() => Bind((key, value)));

        Assert.Contains(named, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Defaults_bind_to_the_documented_values()
    {
        var options = Bind();

        Assert.Equal("actorgrid", options.ClusterName);
        Assert.Equal(4053, options.Port);
        Assert.Equal("data", options.DataDir);
        Assert.Equal(PersistenceProvider.Sqlite, options.Persistence.Provider);
        Assert.Equal(1024 * 1024, options.Kv.MaxValueBytes);
        Assert.Empty(options.Seeds);
    }

    [Fact]
    public void Node_flags_map_to_configuration_keys()
    {
        var values = NodeCommandLine.ToConfiguration(
            ["--port", "4054", "--http", "http://127.0.0.1:5081", "--seed", "127.0.0.1:4053", "--seed", "127.0.0.1:4055",
             "--data", "d", "--roles", "kv,broker", "--postgres", "Host=db", "--ActorGrid:Kv:Partitions=16"]);
        var options = ActorGridOptionsValidator.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

        Assert.Equal(4054, options.Port);
        Assert.Equal("http://127.0.0.1:5081", values["urls"]);
        Assert.Equal(["127.0.0.1:4053", "127.0.0.1:4055"], options.Seeds);
        Assert.Equal(["kv", "broker"], options.Roles);
        Assert.Equal(PersistenceProvider.PostgreSql, options.Persistence.Provider);
        Assert.Equal("Host=db", options.Persistence.ConnectionString);
        Assert.Equal(16, options.Kv.Partitions);
    }

    [Theory]
    [InlineData("--prot")]
    [InlineData("--port")]
    public void Unknown_or_incomplete_flags_fail_with_one_line(string flag)
    {
        var error = Assert.Throws<ActorGridConfigurationException>(() => NodeCommandLine.ToConfiguration([flag]));

        Assert.Contains(flag, error.Message);
    }

    [Fact]
    public async Task A_journal_created_with_another_partition_count_is_refused()
    {
        var dir = Path.Combine(Path.GetTempPath(), "actorgrid-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await JournalPreparation.PrepareAsync(new ActorGridOptions { DataDir = dir, Kv = new KvOptions { Partitions = 16 } });
            await JournalPreparation.PrepareAsync(new ActorGridOptions { DataDir = dir, Kv = new KvOptions { Partitions = 16 } });

            var error = await Assert.ThrowsAsync<ActorGridConfigurationException>(() =>
                JournalPreparation.PrepareAsync(new ActorGridOptions { DataDir = dir, Kv = new KvOptions { Partitions = 8 } }));
            Assert.Contains("ActorGrid:Kv:Partitions is 8", error.Message);
            Assert.Contains("created with 16", error.Message);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_unique_index_another_node_created_since_the_check_is_success()
    {
        // Nodes sharing one SQLite file start together: each finds the new journal without its unique index, and the
        // slower one's CREATE then meets the faster one's index. It must start, not ask for a repair.
        var dir = Path.Combine(Path.GetTempPath(), "actorgrid-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var options = new ActorGridOptions { DataDir = dir };
            await JournalPreparation.PrepareAsync(options);
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(ActorGridHocon.ResolveJournal(options).ConnectionString);
            await connection.OpenAsync();

            await JournalPreparation.CreateUniqueSequenceIndexAsync(connection, PersistenceProvider.Sqlite, "journal", CancellationToken.None);

            // A table that really cannot get the index is still refused.
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = """
                    CREATE TABLE broken (persistence_id TEXT, sequence_number INTEGER);
                    INSERT INTO broken VALUES ('a', 1), ('a', 1)
                    """;
                await command.ExecuteNonQueryAsync();
            }

            var error = await Assert.ThrowsAsync<ActorGridConfigurationException>(() =>
                JournalPreparation.CreateUniqueSequenceIndexAsync(connection, PersistenceProvider.Sqlite, "broken", CancellationToken.None));
            Assert.Contains("repair the table", error.Message);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Statefulset_seeds_are_the_first_pods_and_never_more_than_the_replicas()
    {
        var options = new ActorGridOptions
        {
            Port = 4053,
            StatefulSet = new StatefulSetOptions { PodName = "actorgrid-4", ServiceName = "actorgrid-peers", Replicas = 5, SeedCount = 3 },
        };

        Assert.Equal(["actorgrid-0.actorgrid-peers:4053", "actorgrid-1.actorgrid-peers:4053", "actorgrid-2.actorgrid-peers:4053"], SeedDiscovery.Seeds(options));

        var tooMany = options with { StatefulSet = options.StatefulSet with { SeedCount = 6 } };
        var error = Assert.Throws<ActorGridConfigurationException>(() => ActorGridOptionsValidator.ThrowIfInvalid(tooMany));
        Assert.Contains("ActorGrid:StatefulSet:SeedCount", error.Message);
    }

    [Fact]
    public async Task A_restarted_pod_0_joins_the_running_pods_instead_of_forming_a_second_cluster()
    {
        var pod0 = new ActorGridOptions
        {
            Port = 4053,
            StatefulSet = new StatefulSetOptions { PodName = "actorgrid-0", ServiceName = "actorgrid-peers", Replicas = 4, SeedCount = 2 },
        };
        System.Net.IPAddress[] alone = [System.Net.IPAddress.Parse("10.0.0.10")];
        System.Net.IPAddress[] withPeers = [.. alone, System.Net.IPAddress.Parse("10.0.0.11")];

        // Alone: pod-0 is the first seed, so it may start the cluster when no other seed answers.
        Assert.Equal(["actorgrid-0.actorgrid-peers:4053", "actorgrid-1.actorgrid-peers:4053"],
            await SeedDiscovery.ResolveAsync(pod0, _ => Task.FromResult(alone)));
        // Other pods exist: pod-0 must join them, never itself — every other pod is a seed.
        Assert.Equal(["actorgrid-1.actorgrid-peers:4053", "actorgrid-2.actorgrid-peers:4053", "actorgrid-3.actorgrid-peers:4053"],
            await SeedDiscovery.ResolveAsync(pod0, _ => Task.FromResult(withPeers)));
        // Other pods never self-join; their seeds do not depend on DNS.
        var pod2 = pod0 with { StatefulSet = pod0.StatefulSet with { PodName = "actorgrid-2" } };
        Assert.Equal(SeedDiscovery.Seeds(pod2), await SeedDiscovery.ResolveAsync(pod2, _ => throw new InvalidOperationException("no lookup expected")));
    }
}
