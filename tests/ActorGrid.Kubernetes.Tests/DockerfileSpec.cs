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

    [Fact]
    public void The_build_sees_every_repository_wide_build_file()
    {
        // Central package versions, build properties, SDK pinning and analyzer settings at the root shape every
        // project's build; an image built without one would differ from the tested build.
        var buildFiles = new DirectoryInfo(RenderedManifests.RepositoryRoot).GetFiles()
            .Select(f => f.Name)
            .Where(n => n is "global.json" or ".editorconfig"
                        || n.Equals("nuget.config", StringComparison.OrdinalIgnoreCase)
                        || n.StartsWith("Directory.", StringComparison.Ordinal) && (n.EndsWith(".props", StringComparison.Ordinal) || n.EndsWith(".targets", StringComparison.Ordinal)))
            .ToList();
        var copied = Lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from", StringComparison.Ordinal))
            .SelectMany(l => l["COPY ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1))
            .ToHashSet();

        Assert.Contains("Directory.Packages.props", buildFiles);
        Assert.All(buildFiles, f => Assert.Contains(f, copied));
    }

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex Numeric();
}
