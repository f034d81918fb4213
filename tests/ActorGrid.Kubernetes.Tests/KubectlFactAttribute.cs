namespace ActorGrid.Kubernetes.Tests;

/// <summary>A fact that renders the manifests with kubectl; skipped, visibly, when kubectl is not installed.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        Skip = Kubectl.SkipReason;
    }
}

/// <summary>A theory that renders the manifests with kubectl; skipped, visibly, when kubectl is not installed.</summary>
public sealed class KubectlTheoryAttribute : TheoryAttribute
{
    public KubectlTheoryAttribute()
    {
        Skip = Kubectl.SkipReason;
    }
}

internal static class Kubectl
{
    /// <summary>Null when kubectl is on the PATH; otherwise why the manifest specs cannot run.</summary>
    public static string? SkipReason { get; } = IsOnPath()
        ? null
        : "kubectl not found on PATH: the Kubernetes manifest specs render k8s/ with `kubectl kustomize` (install kubectl to run them)";

    private static bool IsOnPath()
    {
        var names = OperatingSystem.IsWindows() ? new[] { "kubectl.exe", "kubectl" } : ["kubectl"];
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => names.Any(name => File.Exists(Path.Combine(dir, name))));
    }
}
