#nullable enable
using ActorGrid.Configuration;
using ActorGrid.Grid;
using Akka.Cluster;
using Npgsql;

namespace ActorGrid.TestKit;

/// <summary>
/// N ActorGrid nodes in one test process, joined over real loopback remoting and sharing one journal, with the
/// faults a distributed system meets: crash, graceful leave, restart, pause (a stopped process), network partition
/// (both ways or one way) and heal.
/// </summary>
/// <example>
/// <code>
/// await using var cluster = await GridTestCluster.StartAsync(3, grid => grid.WithKeyValue());
/// await cluster.Nodes[0].Client.Kv.PutAsync("a", "1"u8.ToArray());
/// await cluster.CrashAsync(0);
/// await cluster.WaitForUpAsync(2);
/// </code>
/// </example>
public sealed class GridTestCluster : IAsyncDisposable
{
    private readonly List<GridTestNode> _nodes = [];
    private readonly HashSet<(int, int)> _partitioned = [];
    private readonly HashSet<(int From, int To)> _oneWay = [];
    private readonly Action<ActorGridBuilder> _roles;
    private readonly GridTestClusterOptions _kit;
    private readonly string _clusterName;
    private readonly string _dataDir;
    private readonly string? _postgresSchema;
    private readonly string? _postgresConnectionString;
    private TestCertificateAuthority? _ca;

    private GridTestCluster(Action<ActorGridBuilder> roles, GridTestClusterOptions kit)
    {
        _roles = roles;
        _kit = kit;
        var id = Guid.NewGuid().ToString("N")[..12];
        _clusterName = "grid-" + id;
        _dataDir = Path.Combine(Path.GetTempPath(), "actorgrid-tests", id);
        if (kit.Provider == PersistenceProvider.PostgreSql)
        {
            if (string.IsNullOrWhiteSpace(kit.PostgresConnectionString))
            {
                throw new InvalidOperationException(
                    $"A PostgreSQL spec needs a connection string in {GridTestClusterOptions.PostgresEnvironmentVariable}");
            }

            _postgresSchema = "grid_" + id;
            _postgresConnectionString = new NpgsqlConnectionStringBuilder(kit.PostgresConnectionString) { SearchPath = _postgresSchema }.ToString();
        }
    }

    /// <summary>Every node started so far, by index (a restarted node replaces its earlier instance).</summary>
    public IReadOnlyList<GridTestNode> Nodes => _nodes;

    /// <summary>The nodes whose actor system is running.</summary>
    public IReadOnlyList<GridTestNode> Running => _nodes.Where(n => n.IsRunning).ToList();

    /// <summary>The cluster's CA when it runs with <see cref="GridTestClusterOptions.RemotingTls"/>.</summary>
    public TestCertificateAuthority? CertificateAuthority => _ca;

    /// <summary>The node at <paramref name="index"/>.</summary>
    public GridTestNode this[int index] => _nodes[index];

    /// <summary>Starts <paramref name="count"/> nodes hosting the roles <paramref name="roles"/> adds and waits until all are Up.</summary>
    public static async Task<GridTestCluster> StartAsync(int count, Action<ActorGridBuilder> roles, GridTestClusterOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var cluster = new GridTestCluster(roles, options ?? new GridTestClusterOptions());
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await cluster.CreateSchemaAsync();
            for (var i = 0; i < count; i++)
            {
                cluster._nodes.Add(await cluster.StartNodeAsync(i));
                cluster._kit.Log?.Invoke($"[kit] node{i} started at {cluster._nodes[i].Address} ({clock.Elapsed.TotalSeconds:0.0}s)");
            }

            await cluster.WaitForUpAsync(count);
            cluster._kit.Log?.Invoke($"[kit] {count} nodes Up after {clock.Elapsed.TotalSeconds:0.0}s");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills node <paramref name="index"/> without a graceful leave; the split-brain resolver must down it.</summary>
    public Task CrashAsync(int index)
    {
        _kit.Log?.Invoke($"[kit] crash node{index} ({_nodes[index].Address})");
        return _nodes[index].CrashAsync();
    }

    /// <summary>Stops node <paramref name="index"/> gracefully: it leaves and hands its shards off first.</summary>
    public Task LeaveAsync(int index)
    {
        _kit.Log?.Invoke($"[kit] graceful leave node{index} ({_nodes[index].Address})");
        return _nodes[index].LeaveAsync();
    }

    /// <summary>Starts a stopped node <paramref name="index"/> again on the same journal and waits until it is Up.</summary>
    public async Task<GridTestNode> RestartAsync(int index)
    {
        if (_nodes[index].IsRunning)
        {
            throw new InvalidOperationException($"node{index} is still running");
        }

        await _nodes[index].DisposeAsync();
        _nodes[index] = await StartNodeAsync(index);
        _kit.Log?.Invoke($"[kit] restarted node{index} as {_nodes[index].Address}");
        await WaitForUpAsync(Running.Count);
        return _nodes[index];
    }

    /// <summary>Drops all traffic between the nodes of <paramref name="side1"/> and those of <paramref name="side2"/>.</summary>
    public async Task PartitionAsync(IReadOnlyCollection<int> side1, IReadOnlyCollection<int> side2)
    {
        _kit.Log?.Invoke($"[kit] partition [{string.Join(",", side1)}] | [{string.Join(",", side2)}]");
        foreach (var a in side1)
        {
            foreach (var b in side2)
            {
                await SetBlackholeAsync(a, b, blackhole: true);
                _partitioned.Add((a, b));
            }
        }
    }

    /// <summary>
    /// Drops what node <paramref name="from"/> sends to node <paramref name="to"/>, and only that: <paramref name="to"/>
    /// still reaches <paramref name="from"/> (an asymmetric partition, as a one-way firewall rule or a full send
    /// buffer makes). Healed by <see cref="HealAsync"/>.
    /// </summary>
    public async Task PartitionOneWayAsync(int from, int to)
    {
        _kit.Log?.Invoke($"[kit] partition one way: node{from} -> node{to} dropped");
        if (_nodes[from].IsRunning)
        {
            await _nodes[from].SetBlackholeAsync(_nodes[to].Address, blackhole: true, Akka.Remote.Transport.ThrottleTransportAdapter.Direction.Send);
        }

        _oneWay.Add((from, to));
    }

    /// <summary>Restores all traffic dropped by <see cref="PartitionAsync"/> and <see cref="PartitionOneWayAsync"/>.</summary>
    public async Task HealAsync()
    {
        _kit.Log?.Invoke("[kit] heal all partitions");
        foreach (var (a, b) in _partitioned.Concat(_oneWay))
        {
            await SetBlackholeAsync(a, b, blackhole: false);
        }

        _partitioned.Clear();
        _oneWay.Clear();
    }

    /// <summary>
    /// Pauses node <paramref name="index"/>: none of its actors runs until <see cref="Resume"/> (the in-process
    /// SIGSTOP; see <see cref="Faults.PauseGate"/>). Long enough, and the others down it and take its shards over.
    /// </summary>
    public void Pause(int index)
    {
        _kit.Log?.Invoke($"[kit] pause node{index} ({_nodes[index].Address})");
        _nodes[index].Pause();
    }

    /// <summary>Wakes node <paramref name="index"/> paused by <see cref="Pause"/>.</summary>
    public void Resume(int index)
    {
        _kit.Log?.Invoke($"[kit] resume node{index}");
        _nodes[index].Resume();
    }

    /// <summary>
    /// Makes the shared journal fail every read and write (its table disappears) until <see cref="RepairJournalAsync"/>:
    /// a real storage failure, not a simulated one. Entities whose writes fail stop without acknowledging.
    /// </summary>
    public Task BreakJournalAsync()
    {
        // A view takes the table's name: CREATE TABLE IF NOT EXISTS (JournalPreparation, run again by a node that
        // restarts meanwhile) would otherwise create an empty journal in its place, and the repair could not rename
        // the real one back. Reads of the view miss every column; writes to it are refused.
        _kit.Log?.Invoke("[kit] break the journal (rename table journal -> journal_broken, a view named journal in its place)");
        return ExecuteOnJournalAsync("ALTER TABLE journal RENAME TO journal_broken", "CREATE VIEW journal AS SELECT 1 AS broken");
    }

    /// <summary>Restores the journal broken by <see cref="BreakJournalAsync"/>.</summary>
    public Task RepairJournalAsync()
    {
        _kit.Log?.Invoke("[kit] repair the journal");
        return ExecuteOnJournalAsync("DROP VIEW journal", "ALTER TABLE journal_broken RENAME TO journal");
    }

    /// <summary>
    /// Waits until every running node sees exactly <paramref name="expectedMembers"/> members, all Up, and none
    /// unreachable.
    /// </summary>
    public async Task WaitForUpAsync(int expectedMembers, TimeSpan? timeout = null)
    {
        await Eventually.AwaitAsync(() =>
        {
            var running = Running;
            foreach (var node in running)
            {
                var state = Cluster.Get(node.System).State;
                if (state.Members.Count != expectedMembers || state.Members.Any(m => m.Status != MemberStatus.Up) || state.Unreachable.Count > 0)
                {
                    return $"node{node.Index} sees {string.Join(", ", state.Members.Select(m => $"{m.Address.Port}:{m.Status}"))}; unreachable {state.Unreachable.Count}";
                }
            }

            return running.Count == 0 ? "no node is running" : null;
        }, timeout ?? _kit.Timeout, $"{expectedMembers} members Up on every running node");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Tearing down a spec's cluster needs no handoff: abort every node at once.
        await Task.WhenAll(_nodes.Select(async node =>
        {
            await node.CrashAsync();
            await node.DisposeAsync();
        }));

        _nodes.Clear();
        await DropSchemaAsync();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
            // A file still held open by a finalizing connection; the temp folder is cleaned by the OS eventually.
        }
    }

    private async Task SetBlackholeAsync(int a, int b, bool blackhole)
    {
        var (nodeA, nodeB) = (_nodes[a], _nodes[b]);
        if (nodeA.IsRunning)
        {
            await nodeA.SetBlackholeAsync(nodeB.Address, blackhole);
        }

        if (nodeB.IsRunning)
        {
            await nodeB.SetBlackholeAsync(nodeA.Address, blackhole);
        }
    }

    private Task<GridTestNode> StartNodeAsync(int index)
    {
        var seeds = Running.Select(n => $"{n.Address.Host}:{n.Address.Port}").Take(3).ToList();
        var options = new ActorGridOptions
        {
            ClusterName = _clusterName,
            Hostname = "127.0.0.1",
            Port = 0,
            Seeds = seeds,
            DataDir = _dataDir,
            FailureDetection = _kit.FailureDetection,
            Persistence = _kit.Provider == PersistenceProvider.PostgreSql
                ? new PersistenceOptions { Provider = PersistenceProvider.PostgreSql, ConnectionString = _postgresConnectionString }
                : new PersistenceOptions(),
        };
        if (_kit.RemotingTls)
        {
            _ca ??= TestCertificateAuthority.Create(_clusterName, Path.Combine(_dataDir, "tls"));
            options = options with { Security = options.Security with { Tls = _ca.Issue($"node{index}") } };
        }

        options = _kit.Configure?.Invoke(index, options) ?? options;
        return GridTestNode.StartAsync(index, options, _roles, _kit);
    }

    /// <summary>Runs <paramref name="statements"/> on the journal's database in one transaction.</summary>
    private async Task ExecuteOnJournalAsync(params string[] statements)
    {
        var options = _nodes[0].Options;
        var (_, connectionString) = ActorGridHocon.ResolveJournal(options);
        await using System.Data.Common.DbConnection connection = options.Persistence.Provider == PersistenceProvider.PostgreSql
            ? new NpgsqlConnection(connectionString)
            : new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var sql in statements)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    private async Task CreateSchemaAsync()
    {
        if (_postgresSchema is null)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(_kit.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS \"{_postgresSchema}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task DropSchemaAsync()
    {
        if (_postgresSchema is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_kit.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_postgresSchema}\" CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }
}
