using System.Net;
using ActorGrid.TestKit;

namespace ActorGrid.Kubernetes.Tests;

/// <summary>The probe paths of the manifest, asked of a running node.</summary>
public sealed class ProbeEndpointsSpec
{
    [KubectlFact]
    public async Task The_probe_paths_answer_on_a_running_node()
    {
        var container = NodePod.Of(RenderedManifests.Of("k8s"), 0).Container;
        var paths = new[] { container.StartupProbe, container.LivenessProbe, container.ReadinessProbe }
            .Select(p => p?.HttpGet?.Path)
            .OfType<string>()
            .Distinct()
            .ToList();
        Assert.NotEmpty(paths);

        await using var cluster = await GridTestCluster.StartAsync(1, _ => { });
        var node = cluster.Nodes[0];

        // Every path must exist (a typo answers 404 and the kubelet would restart the pod or never route to it) and
        // report healthy on a node that is Up.
        foreach (var path in paths)
        {
            using (var first = await node.Http.GetAsync(path))
            {
                Assert.True(first.StatusCode != HttpStatusCode.NotFound, $"the node has no route {path}");
            }

            await Eventually.AwaitAsync(async () =>
            {
                using var response = await node.Http.GetAsync(path);
                return response.StatusCode == HttpStatusCode.OK ? null : $"{path} answered {(int)response.StatusCode}";
            }, TimeSpan.FromSeconds(30), $"{path} to answer 200");
        }
    }
}
