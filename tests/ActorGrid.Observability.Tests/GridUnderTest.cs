using ActorGrid.MapReduce.Tests;
using ActorGrid.Broker;
using ActorGrid.KeyValue;
using ActorGrid.MapReduce;
using ActorGrid.TestKit;

namespace ActorGrid.Observability.Tests;

/// <summary>The three built-in roles on three in-process nodes, as the observability specs use them.</summary>
public static class GridUnderTest
{
    public static Task<GridTestCluster> StartAsync(Action<string> log, GridTestClusterOptions? options = null) =>
        GridTestCluster.StartAsync(
            3,
            grid => grid.WithKeyValue().WithBroker().WithMapReduce(jobs => jobs.Add<PacedWordCountJob>(PacedWordCountJob.Name)),
            (options ?? new GridTestClusterOptions()) with { Log = log });

    /// <summary>Scrapes every running node.</summary>
    public static async Task<IReadOnlyList<PrometheusText>> ScrapeAllAsync(GridTestCluster cluster) =>
        await Task.WhenAll(cluster.Running.Select(n => PrometheusText.ScrapeAsync(n.Http)));
}
