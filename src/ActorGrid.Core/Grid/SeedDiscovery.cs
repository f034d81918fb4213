#nullable enable
using ActorGrid.Configuration;

namespace ActorGrid.Grid;

/// <summary>Where a node finds its peers: configured seeds, or the first pods of its StatefulSet.</summary>
public static class SeedDiscovery
{
    /// <summary>The seeds (<c>host:port</c>) this node joins; empty means form a one-node cluster.</summary>
    public static IReadOnlyList<string> Seeds(ActorGridOptions options)
    {
        if (options.Seeds.Count > 0 || options.StatefulSet is not { } sts)
        {
            return options.Seeds;
        }

        // Akka's seed-node process lets the first seed in the list join itself only when no other seed answers,
        // so a restarted pod-0 rejoins the running cluster instead of forming a second one.
        var statefulSetName = sts.PodName[..sts.PodName.LastIndexOf('-')];
        return Enumerable.Range(0, Math.Min(sts.SeedCount, sts.Replicas))
            .Select(i => $"{statefulSetName}-{i}.{sts.ServiceName}:{options.Port}")
            .ToList();
    }
}
