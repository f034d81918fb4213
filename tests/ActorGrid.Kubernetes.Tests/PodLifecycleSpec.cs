using ActorGrid.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ActorGrid.Kubernetes.Tests;

/// <summary>Probes, shutdown, disruption budget and security of the node pods.</summary>
public sealed class PodLifecycleSpec
{
    public const string ReadinessPath = "/health/ready";
    public const string LivenessPath = "/health/live";

    private static RenderedManifests Manifests => RenderedManifests.Of("k8s");

    private static NodePod Pod => NodePod.Of(Manifests, 0);

    [KubectlFact]
    public void Readiness_follows_cluster_membership_and_liveness_never_depends_on_it()
    {
        var pod = Pod;
        var httpPort = new Uri(pod.Configuration["urls"]!).Port;

        Assert.Equal(ReadinessPath, pod.Container.ReadinessProbe?.HttpGet?.Path);
        Assert.Equal(LivenessPath, pod.Container.LivenessProbe?.HttpGet?.Path);
        Assert.Equal(httpPort, pod.ContainerPort(pod.Container.ReadinessProbe!.HttpGet!.Port));
        Assert.Equal(httpPort, pod.ContainerPort(pod.Container.LivenessProbe!.HttpGet!.Port));
        if (pod.Container.StartupProbe is { } startup)
        {
            // The startup probe gates liveness; a pod still joining must not count as failing to start.
            Assert.Equal(LivenessPath, startup.HttpGet?.Path);
            Assert.Equal(httpPort, pod.ContainerPort(startup.HttpGet!.Port));
        }
    }

    [KubectlFact]
    public void The_grace_period_outlasts_the_pre_stop_pause_and_the_nodes_own_shutdown_timeout()
    {
        var pod = Pod;
        using var services = new ServiceCollection()
            .AddActorGrid(pod.BindOptions(), _ => { })
            .BuildServiceProvider();
        var shutdownTimeout = services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
        var preStop = PreStopSeconds(pod.Container);

        // The grace period starts with the preStop hook; the kubelet sends SIGKILL when it ends. By then the node must
        // have handed off its shards and exited, and it gives itself ShutdownTimeout to do so.
        var grace = pod.StatefulSet.Spec.Template.Spec.TerminationGracePeriodSeconds;
        Assert.True(grace > preStop + shutdownTimeout.TotalSeconds,
            $"terminationGracePeriodSeconds {grace?.ToString() ?? "(default 30)"} must exceed the preStop pause {preStop} s plus the node's shutdown timeout {shutdownTimeout.TotalSeconds} s");
    }

    private static int PreStopSeconds(Container container) => container.Lifecycle?.PreStop switch
    {
        null => 0,
        { Sleep: { } sleep } => sleep.Seconds,
        { Exec.Command: ["sleep", var seconds] } => int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException("the spec cannot tell how long this preStop hook takes"),
    };

    [KubectlFact]
    public void The_disruption_budget_lets_one_node_pod_go_at_a_time()
    {
        var pdb = Assert.Single(Manifests.PodDisruptionBudgets);
        var labels = Manifests.StatefulSet(NodePod.StatefulSetName).Spec.Template.Metadata.Labels;

        Assert.Equal("1", pdb.Spec.MaxUnavailable);
        Assert.True(NodeConfigurationSpec.Selects(pdb.Spec.Selector.MatchLabels, labels), "the PodDisruptionBudget does not select the node pods");
        Assert.All(Manifests.StatefulSets.Where(s => s.Metadata.Name != NodePod.StatefulSetName),
            s => Assert.False(NodeConfigurationSpec.Selects(pdb.Spec.Selector.MatchLabels, s.Spec.Template.Metadata.Labels)));
    }

    [KubectlFact]
    public void The_statefulset_selects_its_own_pod_template()
    {
        var sts = Manifests.StatefulSet(NodePod.StatefulSetName);

        Assert.True(NodeConfigurationSpec.Selects(sts.Spec.Selector.MatchLabels, sts.Spec.Template.Metadata.Labels),
            "spec.selector does not match spec.template.metadata.labels (the API server would reject the StatefulSet)");
    }

    [KubectlFact]
    public void The_node_runs_as_non_root_on_a_read_only_root_filesystem_without_capabilities()
    {
        var pod = Pod;
        var podSecurity = pod.StatefulSet.Spec.Template.Spec.SecurityContext;
        var container = pod.Container.SecurityContext;

        Assert.True((container?.RunAsNonRoot ?? podSecurity?.RunAsNonRoot) == true, "runAsNonRoot is not set");
        Assert.NotEqual(0, container?.RunAsUser ?? podSecurity?.RunAsUser);
        Assert.True(container?.ReadOnlyRootFilesystem == true, "readOnlyRootFilesystem is not set");
        Assert.True(container?.AllowPrivilegeEscalation == false, "allowPrivilegeEscalation is not false");
        Assert.Contains("ALL", container?.Capabilities?.Drop ?? []);
        // The .NET runtime writes its diagnostics socket and temporary files there.
        Assert.Contains(pod.Container.VolumeMounts, m => m.MountPath == "/tmp");
    }

    [KubectlFact]
    public void The_node_declares_its_resources()
    {
        var resources = Pod.Container.Resources;

        Assert.True(resources.Requests.ContainsKey("cpu") && resources.Requests.ContainsKey("memory"), "cpu and memory requests are required");
        // The .NET GC sizes its heap from the memory limit.
        Assert.True(resources.Limits.ContainsKey("memory"), "a memory limit is required");
    }
}
