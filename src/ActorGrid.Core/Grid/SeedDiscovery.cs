#nullable enable
using System.Net;
using System.Net.Sockets;
using ActorGrid.Configuration;

namespace ActorGrid.Grid;

/// <summary>Where a node finds its peers: configured seeds, or the pods of its StatefulSet.</summary>
public static class SeedDiscovery
{
    /// <summary>
    /// The seeds (<c>host:port</c>) this node joins; empty means form a one-node cluster. In a StatefulSet the seeds
    /// are the first <c>SeedCount</c> pods' stable DNS names, in ordinal order: Akka's seed process lets the first
    /// seed (pod-0) join itself only when no other seed answers.
    /// </summary>
    public static IReadOnlyList<string> Seeds(ActorGridOptions options)
    {
        if (options.Seeds.Count > 0 || options.StatefulSet is not { } sts)
        {
            return options.Seeds;
        }

        return Enumerable.Range(0, Math.Min(sts.SeedCount, sts.Replicas)).Select(i => PodAddress(options, sts, i)).ToList();
    }

    /// <summary>
    /// <see cref="Seeds"/>, with the guard against a restarted pod-0 forming a second cluster: when the headless
    /// service (which publishes not-ready pods too) already lists other pods, pod-0 must join them, so it gets
    /// every other pod as seeds and never itself. Only a pod-0 that is alone may start a new cluster.
    /// </summary>
    /// <param name="options">The node's options.</param>
    /// <param name="lookup">Resolves a DNS name (the headless service) to the pods' addresses.</param>
    public static async Task<IReadOnlyList<string>> ResolveAsync(ActorGridOptions options, Func<string, Task<IPAddress[]>> lookup)
    {
        var seeds = Seeds(options);
        if (options.Seeds.Count > 0 || options.StatefulSet is not { } sts || ActorGridOptionsValidator.StatefulSetOrdinal(sts.PodName) != 0)
        {
            return seeds;
        }

        IPAddress[] pods;
        try
        {
            pods = await lookup(sts.ServiceName);
        }
        catch (SocketException)
        {
            // No DNS record at all: no pod of the service is published yet, this one included.
            return seeds;
        }

        return pods.Length > 1
            ? Enumerable.Range(1, sts.Replicas - 1).Select(i => PodAddress(options, sts, i)).ToList()
            : seeds;
    }

    private static string PodAddress(ActorGridOptions options, StatefulSetOptions sts, int ordinal) =>
        $"{sts.PodName[..sts.PodName.LastIndexOf('-')]}-{ordinal}.{sts.ServiceName}:{options.Port}";
}
