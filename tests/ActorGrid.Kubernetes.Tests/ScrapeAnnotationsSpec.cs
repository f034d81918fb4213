using System.Net;
using ActorGrid.TestKit;

namespace ActorGrid.Kubernetes.Tests;

/// <summary>The pods' Prometheus scrape annotations point at a port and path that serve Prometheus text.</summary>
public sealed class ScrapeAnnotationsSpec
{
    [KubectlFact]
    public async Task The_scrape_annotations_name_the_http_port_and_a_path_that_serves_prometheus_text()
    {
        var pod = NodePod.Of(RenderedManifests.Of("k8s"), 0);
        var annotations = pod.StatefulSet.Spec.Template.Metadata.Annotations;
        Assert.Equal("true", annotations.GetValueOrDefault("prometheus.io/scrape"));
        Assert.Equal(pod.ContainerPort("http"), pod.ContainerPort(annotations["prometheus.io/port"]));
        var path = annotations["prometheus.io/path"];

        await using var cluster = await GridTestCluster.StartAsync(1, _ => { });
        using var response = await cluster.Nodes[0].Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("actorgrid_cluster_members", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
