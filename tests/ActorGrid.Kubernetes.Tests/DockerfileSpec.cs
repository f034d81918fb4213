using System.Text.RegularExpressions;

namespace ActorGrid.Kubernetes.Tests;

/// <summary>
/// The node image cannot be built where the specs run (no container engine), so its Dockerfile is held to the
/// manifests it must work with.
/// </summary>
public sealed partial class DockerfileSpec
{
    private static readonly string[] Lines = File.ReadAllLines(Path.Combine(RenderedManifests.RepositoryRoot, "Dockerfile"));

    [KubectlFact]
    public void The_image_exposes_the_ports_the_pod_declares()
    {
        var exposed = Lines.Where(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal))
            .SelectMany(l => l["EXPOSE ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture))
            .Order();
        var declared = NodePod.Of(RenderedManifests.Of("k8s"), 0).Container.Ports.Select(p => p.ContainerPort).Order();

        Assert.Equal(declared, exposed);
    }

    [KubectlFact]
    public void The_image_runs_as_the_numeric_non_root_user_the_pod_expects()
    {
        var user = Lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..].Trim();

        // runAsNonRoot can only verify a numeric user; a name such as `app` makes the kubelet refuse the container.
        Assert.Matches(Numeric(), user);
        Assert.NotEqual("0", user);
        var runAsUser = NodePod.Of(RenderedManifests.Of("k8s"), 0).StatefulSet.Spec.Template.Spec.SecurityContext?.RunAsUser;
        Assert.Equal(runAsUser?.ToString(System.Globalization.CultureInfo.InvariantCulture), user);
    }

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Numeric();
}
