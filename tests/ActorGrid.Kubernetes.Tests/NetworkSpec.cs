using System.Net;

namespace ActorGrid.Kubernetes.Tests;

/// <summary>Services and container ports against the ports the node binds.</summary>
public sealed class NetworkSpec
{
    private const string HttpServiceName = "actorgrid";

    private static RenderedManifests Manifests => RenderedManifests.Of("k8s");

    [KubectlFact]
    public void The_peer_service_is_headless_and_publishes_pods_before_they_are_ready()
    {
        var pod = NodePod.Of(Manifests, 0);
        var peers = Manifests.Service(pod.StatefulSet.Spec.ServiceName);

        // Headless: DNS answers with pod addresses, which is what Akka remoting needs.
        Assert.Equal("None", peers.Spec.ClusterIp);
        // A pod becomes Ready only after joining through these names, so they must resolve before it is Ready.
        Assert.True(peers.Spec.PublishNotReadyAddresses, "publishNotReadyAddresses must be true");
        Assert.True(NodeConfigurationSpec.Selects(peers.Spec.Selector, pod.StatefulSet.Spec.Template.Metadata.Labels),
            $"service {peers.Metadata.Name} does not select the StatefulSet's pods");
    }

    [KubectlFact]
    public void The_remoting_port_is_the_same_in_the_node_options_the_container_and_the_peer_service()
    {
        var pod = NodePod.Of(Manifests, 0);
        var port = pod.BindOptions().Port;
        var peers = Manifests.Service(pod.StatefulSet.Spec.ServiceName);

        Assert.Contains(pod.Container.Ports, p => p.ContainerPort == port);
        // Peers dial pod addresses directly (no service port translation behind a headless service), so the
        // service may only document the very port the node binds.
        var remoting = Assert.Single(peers.Spec.Ports);
        Assert.Equal(port, remoting.Port);
        Assert.Equal(port, pod.ContainerPort(remoting.TargetPort ?? remoting.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [KubectlFact]
    public void The_http_service_reaches_the_port_the_node_listens_on_from_every_interface()
    {
        var pod = NodePod.Of(Manifests, 0);
        var urls = pod.Configuration["urls"];
        Assert.False(string.IsNullOrWhiteSpace(urls), "neither ASPNETCORE_URLS nor urls is set: the node would listen on 127.0.0.1 only");
        var url = new Uri(Assert.Single(urls.Split(';')));
        Assert.True(url.Host is "+" or "*" || IPAddress.TryParse(url.Host, out var ip) && !IPAddress.IsLoopback(ip),
            $"the node listens on {url}, which the service cannot reach");

        var http = Manifests.Service(HttpServiceName);
        Assert.True(NodeConfigurationSpec.Selects(http.Spec.Selector, pod.StatefulSet.Spec.Template.Metadata.Labels),
            $"service {HttpServiceName} does not select the StatefulSet's pods");
        Assert.All(http.Spec.Ports, p => Assert.Equal(url.Port, pod.ContainerPort(p.TargetPort ?? p.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }

    [KubectlFact]
    public void Services_select_only_node_pods_and_never_the_database()
    {
        var nodeLabels = Manifests.StatefulSet(NodePod.StatefulSetName).Spec.Template.Metadata.Labels;
        var others = Manifests.StatefulSets.Where(s => s.Metadata.Name != NodePod.StatefulSetName).ToList();
        Assert.NotEmpty(others);

        foreach (var service in new[] { HttpServiceName, NodePod.Of(Manifests, 0).StatefulSet.Spec.ServiceName }.Select(Manifests.Service))
        {
            Assert.True(NodeConfigurationSpec.Selects(service.Spec.Selector, nodeLabels), $"{service.Metadata.Name} misses the node pods");
            Assert.All(others, o => Assert.False(NodeConfigurationSpec.Selects(service.Spec.Selector, o.Spec.Template.Metadata.Labels),
                $"{service.Metadata.Name} also selects the pods of {o.Metadata.Name}"));
        }
    }

    [KubectlFact]
    public void Only_node_pods_reach_the_unauthenticated_remoting_port_while_http_stays_open()
    {
        var pod = NodePod.Of(Manifests, 0);
        var nodeLabels = pod.StatefulSet.Spec.Template.Metadata.Labels;
        var remoting = pod.BindOptions().Port;
        var http = new Uri(pod.Configuration["urls"]!).Port;
        var policy = Assert.Single(Manifests.NetworkPolicies, p => NodeConfigurationSpec.Selects(p.Spec.PodSelector.MatchLabels, nodeLabels));
        Assert.Contains("Ingress", policy.Spec.PolicyTypes);

        var remotingRules = policy.Spec.Ingress.Where(r => r.Ports.Any(p => pod.ContainerPort(p.Port) == remoting)).ToList();
        Assert.NotEmpty(remotingRules);
        Assert.All(remotingRules, rule =>
        {
            var from = Assert.Single(rule.From);
            Assert.Null(from.NamespaceSelector);
            Assert.True(from.PodSelector is { } selector && NodeConfigurationSpec.Selects(selector.MatchLabels, nodeLabels),
                "the remoting port must be reachable from the node pods only");
            Assert.All(Manifests.StatefulSets.Where(s => s.Metadata.Name != NodePod.StatefulSetName),
                s => Assert.False(NodeConfigurationSpec.Selects(from.PodSelector!.MatchLabels, s.Spec.Template.Metadata.Labels)));
        });

        // Clients, ingress controllers and the kubelet's probes reach the HTTP port from anywhere.
        Assert.Contains(policy.Spec.Ingress, r => r.From.Count == 0 && r.Ports.Any(p => pod.ContainerPort(p.Port) == http));
    }
}
