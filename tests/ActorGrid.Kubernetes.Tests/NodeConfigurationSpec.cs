using System.Net;
using ActorGrid.Configuration;
using ActorGrid.Grid;
using Npgsql;

namespace ActorGrid.Kubernetes.Tests;

/// <summary>The StatefulSet's environment, read by the node's own configuration binding and seed discovery.</summary>
public sealed class NodeConfigurationSpec
{
    public static TheoryData<string> Kustomizations => new() { "k8s", "k8s/overlays/managed-postgres" };

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void Every_ActorGrid_variable_binds_to_a_node_option(string kustomization)
    {
        foreach (var pod in NodePod.All(RenderedManifests.Of(kustomization)))
        {
            // A misspelt key would otherwise be ignored silently; the node's binder refuses unknown keys, so does this.
            var misspelt = pod.Environment.Keys
                .Where(k => k.StartsWith(ActorGridOptions.SectionName, StringComparison.OrdinalIgnoreCase)
                            && !k.StartsWith(ActorGridOptions.SectionName + "__", StringComparison.Ordinal))
                .ToList();
            Assert.True(misspelt.Count == 0, $"{pod.Name}: not of the form ActorGrid__Key__SubKey: {string.Join(", ", misspelt)}");

            var error = Record.Exception(() => pod.BindOptions());
            Assert.True(error is null, $"{kustomization}, {pod.Name}: the node would refuse to start: {error?.Message}");
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void Each_pod_binds_all_interfaces_and_advertises_its_stable_dns_name(string kustomization)
    {
        foreach (var pod in NodePod.All(RenderedManifests.Of(kustomization)))
        {
            var options = pod.BindOptions();
            var statefulSet = pod.StatefulSet.Spec;

            // Kubernetes names a StatefulSet pod <pod>.<serviceName>; peers must reach it under exactly that name.
            Assert.Equal($"{pod.Name}.{statefulSet.ServiceName}", options.AdvertisedHostname);
            Assert.True(IPAddress.TryParse(options.Hostname, out var bind) && !IPAddress.IsLoopback(bind),
                $"{pod.Name}: remoting binds '{options.Hostname}', which peers in other pods cannot reach");

            Assert.NotNull(options.StatefulSet);
            Assert.Equal(pod.Name, options.StatefulSet.PodName);
            Assert.Equal(statefulSet.ServiceName, options.StatefulSet.ServiceName);
            Assert.Equal(statefulSet.Replicas, options.StatefulSet.Replicas);
            Assert.InRange(options.StatefulSet.SeedCount, 1, statefulSet.Replicas);
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void Seeds_are_the_first_pods_of_the_headless_service_and_every_pod_agrees(string kustomization)
    {
        var pods = NodePod.All(RenderedManifests.Of(kustomization));
        var options = pods[0].BindOptions();
        var sts = pods[0].StatefulSet;
        var expected = Enumerable.Range(0, options.StatefulSet!.SeedCount)
            .Select(i => $"{sts.Metadata.Name}-{i}.{sts.Spec.ServiceName}:{options.Port}")
            .ToList();

        foreach (var pod in pods)
        {
            Assert.Equal(expected, SeedDiscovery.Seeds(pod.BindOptions()));
        }

        // Akka lets the first seed join itself only when its own address is exactly the first seed's address;
        // otherwise pod-0 would wait forever for a cluster to exist.
        Assert.Equal(expected[0], $"{options.AdvertisedHostname}:{options.Port}");
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void A_restarted_pod_0_has_other_seeds_to_ask_before_it_may_join_itself(string kustomization)
    {
        var pod0 = NodePod.Of(RenderedManifests.Of(kustomization), 0);
        var seeds = SeedDiscovery.Seeds(pod0.BindOptions());

        // With pod-0 as the only seed, a restarted pod-0 finds no seed to answer and forms a second cluster.
        Assert.True(seeds.Count >= 2, $"pod-0 asks only {string.Join(", ", seeds)} before joining itself; set StatefulSet__SeedCount to at least 2");
    }

    [KubectlTheory]
    [MemberData(nameof(Kustomizations))]
    public void The_journal_is_PostgreSql_shared_by_every_pod(string kustomization)
    {
        var pods = NodePod.All(RenderedManifests.Of(kustomization));
        foreach (var pod in pods)
        {
            var options = pod.BindOptions();
            Assert.Equal(PersistenceProvider.PostgreSql, options.Persistence.Provider);
            Assert.False(string.IsNullOrWhiteSpace(options.Persistence.ConnectionString), $"{pod.Name} has no journal connection string");
        }

        Assert.Single(pods.Select(p => p.BindOptions().Persistence.ConnectionString).Distinct());
    }

    [KubectlFact]
    public void The_development_journal_points_at_the_bundled_postgres_with_its_credentials()
    {
        var manifests = RenderedManifests.Of("k8s");
        var journal = new NpgsqlConnectionStringBuilder(NodePod.Of(manifests, 0).BindOptions().Persistence.ConnectionString);

        var service = manifests.Service(journal.Host!);
        Assert.Contains(service.Spec.Ports, p => p.Port == journal.Port);
        var postgres = manifests.StatefulSets.Single(s => Selects(service.Spec.Selector, s.Spec.Template.Metadata.Labels));
        var container = postgres.Spec.Template.Spec.Containers.Single();
        var env = container.Env.ToDictionary(e => e.Name);

        Assert.Equal(env["POSTGRES_DB"].Value, journal.Database);
        Assert.Equal(env["POSTGRES_USER"].Value, journal.Username);
        var password = env["POSTGRES_PASSWORD"].ValueFrom!.SecretKeyRef!;
        Assert.Equal(manifests.SecretValue(password.Name, password.Key), journal.Password);
    }

    [KubectlFact]
    public void The_managed_postgres_overlay_drops_the_bundled_database()
    {
        var manifests = RenderedManifests.Of("k8s/overlays/managed-postgres");

        Assert.Equal([NodePod.StatefulSetName], manifests.StatefulSets.Select(s => s.Metadata.Name));
        Assert.DoesNotContain(manifests.Services, s => s.Metadata.Name == "postgres");
        var journal = new NpgsqlConnectionStringBuilder(NodePod.Of(manifests, 0).BindOptions().Persistence.ConnectionString);
        Assert.NotEqual("postgres", journal.Host);
    }

    internal static bool Selects(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value);
}
