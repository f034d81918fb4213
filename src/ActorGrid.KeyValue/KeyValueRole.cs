#nullable enable
using ActorGrid.Configuration;
using ActorGrid.Contracts;
using ActorGrid.Grid;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static ActorGrid.KeyValue.KvProtocol;
using Settings = ActorGrid.KeyValue.KvProtocol.Settings;

namespace ActorGrid.KeyValue;

/// <summary>Registry key of the KV partitions' shard region (or proxy).</summary>
public sealed class KvPartitionRegion
{
    private KvPartitionRegion()
    {
    }
}

/// <summary>Registry key of this node's KV replica (<see cref="KvReplica"/>).</summary>
public sealed class KvReplicaActor
{
    private KvReplicaActor()
    {
    }
}

/// <summary>
/// The <c>kv</c> role: partitions as sharded persistent entities (<c>kv-0</c> … <c>kv-{Partitions-1}</c>), a replica
/// and a load reporter on every node, and the <c>/kv</c> HTTP API.
/// </summary>
public sealed class KeyValueRole : IGridRole, IReportsShardLoad, IReportsShardStorage
{
    private Settings? _settings;

    /// <inheritdoc />
    public string Name => RoleName;

    /// <inheritdoc />
    public IReadOnlyList<string> ShardTypeNames { get; } = [RoleName];

    /// <inheritdoc />
    public void RegisterManifests(ManifestRegistry manifests) => KvProtocol.RegisterManifests(manifests);

    /// <inheritdoc />
    public void AddServices(IServiceCollection services) =>
        services.AddSingleton<IKeyValueStore>(sp => new KvStore(sp.GetRequiredService<ActorSystem>(), Settings.Create(sp.GetRequiredService<ActorGridOptions>())));

    /// <inheritdoc />
    public void Configure(AkkaConfigurationBuilder akka, GridContext context)
    {
        var settings = Settings.Create(context.Options);
        _settings = settings;
        akka.WithGridRegion<KvPartitionRegion>(context, RoleName, RoleName, id => KvPartition.Props(id, settings), settings.Partitions,
                handOffStopMessage: StopPartition.Instance)
            .WithActors((system, registry) =>
            {
                var region = registry.Get<KvPartitionRegion>();
                registry.Register<KvReplicaActor>(system.ActorOf(KvReplica.Props(region, settings), KvReplica.ActorName));
                if (context.Hosts(RoleName))
                {
                    system.ActorOf(Props.Create<KvLoadReporter>(), KvLoadReporter.ActorName);
                }
            });
    }

    /// <inheritdoc />
    public void DescribeApi(Http.HttpApiDescription api) => api.DescribeKv();

    /// <inheritdoc />
    public void MapEndpoints(IEndpointRouteBuilder endpoints) =>
        endpoints.MapKvEndpoints(Settings.Create(endpoints.ServiceProvider.GetRequiredService<ActorGridOptions>()));

    /// <summary>
    /// Recent ops/sec per shard: every node hosting <c>kv</c> is asked for the load of the partitions it hosts
    /// (a node that does not answer within two seconds is left out), and partitions are summed per shard.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, double>> GetShardLoadAsync(ActorSystem system, string typeName, CancellationToken cancellationToken)
    {
        var settings = _settings ?? throw new InvalidOperationException("the kv role is not configured");
        var extractor = new GridMessageExtractor(settings.Partitions);
        var members = Cluster.Get(system).State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(RoleName));
        var answers = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                var reporter = system.ActorSelection(new RootActorPath(m.Address) / "user" / KvLoadReporter.ActorName);
                return await reporter.Ask<PartitionLoadsResult>(GetPartitionLoads.Instance, TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (AskTimeoutException)
            {
                return new PartitionLoadsResult([]);
            }
        }));

        var perShard = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var load in answers.SelectMany(a => a.Loads))
        {
            var shard = extractor.ShardId(load.EntityId, null);
            perShard[shard] = perShard.GetValueOrDefault(shard) + load.OpsPerSecond;
        }

        return perShard;
    }

    /// <summary>Live keys, tombstones and bytes per running shard, summed over its partitions (each asked, 3 s at most).</summary>
    public async Task<IReadOnlyDictionary<string, ShardStorage>> GetShardStorageAsync(
        ActorSystem system, string typeName, IReadOnlyCollection<string> shardIds, CancellationToken cancellationToken)
    {
        var settings = _settings ?? throw new InvalidOperationException("the kv role is not configured");
        var extractor = new GridMessageExtractor(settings.Partitions);
        var region = ActorRegistry.For(system).Get<KvPartitionRegion>();
        var wanted = shardIds.ToHashSet(StringComparer.Ordinal);
        var answers = await Task.WhenAll(Enumerable.Range(0, settings.Partitions)
            .Select(p => new GetPartitionStats(KvKeys.EntityId(p)))
            .Where(ask => wanted.Contains(extractor.ShardId(ask.EntityId, ask)))
            .Select(async ask =>
            {
                try
                {
                    return (Shard: extractor.ShardId(ask.EntityId, ask), Stats: await region.Ask<PartitionStatsResult>(ask, TimeSpan.FromSeconds(3), cancellationToken));
                }
                catch (AskTimeoutException)
                {
                    return (Shard: "", Stats: (PartitionStatsResult?)null);
                }
            }));
        return answers.Where(a => a.Stats is not null).GroupBy(a => a.Shard, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => new ShardStorage(g.Sum(a => a.Stats!.LiveKeys), g.Sum(a => a.Stats!.Tombstones), g.Sum(a => a.Stats!.Bytes)),
            StringComparer.Ordinal);
    }
}

/// <summary>Adds the key-value role to a grid.</summary>
public static class KeyValueGridExtensions
{
    /// <summary>Adds the <c>kv</c> role: versioned keys with CAS, TTL, prefix scans and replica reads (SPEC §5).</summary>
    public static ActorGridBuilder WithKeyValue(this ActorGridBuilder grid) => grid.AddRole(new KeyValueRole());
}
