using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ActorGrid.Kubernetes.Tests;

/// <summary>The objects <c>kubectl kustomize &lt;dir&gt;</c> renders for a kustomization of this repository.</summary>
public sealed class RenderedManifests
{
    private static readonly ConcurrentDictionary<string, Lazy<RenderedManifests>> Cache = new();

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    private RenderedManifests(string directory, IReadOnlyList<string> documents)
    {
        Directory = directory;
        Objects = documents.Select(d => Yaml.Deserialize<KubeObject>(d)).ToList();
        Services = Of<Service>(documents, "Service");
        StatefulSets = Of<StatefulSet>(documents, "StatefulSet");
        Secrets = Of<Secret>(documents, "Secret");
        PodDisruptionBudgets = Of<PodDisruptionBudget>(documents, "PodDisruptionBudget");
        NetworkPolicies = Of<NetworkPolicy>(documents, "NetworkPolicy");
    }

    /// <summary>The repository root (the folder holding ActorGrid.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The kustomization folder, relative to the repository root.</summary>
    public string Directory { get; }

    public IReadOnlyList<KubeObject> Objects { get; }

    public IReadOnlyList<Service> Services { get; }

    public IReadOnlyList<StatefulSet> StatefulSets { get; }

    public IReadOnlyList<Secret> Secrets { get; }

    public IReadOnlyList<PodDisruptionBudget> PodDisruptionBudgets { get; }

    public IReadOnlyList<NetworkPolicy> NetworkPolicies { get; }

    /// <summary>Renders <paramref name="directory"/> (relative to the repository root) once per test run.</summary>
    public static RenderedManifests Of(string directory) =>
        Cache.GetOrAdd(directory, d => new Lazy<RenderedManifests>(() => Render(d))).Value;

    public StatefulSet StatefulSet(string name) => Named(StatefulSets, name);

    public Service Service(string name) => Named(Services, name);

    /// <summary>The decoded value of <paramref name="key"/> in the Secret <paramref name="name"/>.</summary>
    public string SecretValue(string name, string key)
    {
        var secret = Named(Secrets, name);
        if (secret.StringData.TryGetValue(key, out var plain))
        {
            return plain;
        }

        Assert.True(secret.Data.TryGetValue(key, out var encoded), $"Secret {name} in {Directory} has no key '{key}'");
        return Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(encoded!.Where(c => !char.IsWhiteSpace(c)))));
    }

    private T Named<T>(IReadOnlyList<T> objects, string name)
        where T : KubeObject
    {
        var found = objects.Where(o => o.Metadata.Name == name).ToList();
        Assert.True(found.Count == 1,
            $"{Directory} renders {found.Count} {typeof(T).Name} named '{name}' (has: {string.Join(", ", objects.Select(o => o.Metadata.Name))})");
        return found[0];
    }

    private static List<T> Of<T>(IReadOnlyList<string> documents, string kind) =>
        documents.Where(d => Yaml.Deserialize<KubeObject>(d).Kind == kind).Select(Yaml.Deserialize<T>).ToList();

    private static RenderedManifests Render(string directory)
    {
        var start = new ProcessStartInfo("kubectl", ["kustomize", Path.Combine(RepositoryRoot, directory)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var kubectl = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        var stdout = kubectl.StandardOutput.ReadToEndAsync();
        var stderr = kubectl.StandardError.ReadToEndAsync();
        if (!kubectl.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            kubectl.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl kustomize {directory} did not finish within 60 s");
        }

        if (kubectl.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize {directory} failed ({kubectl.ExitCode}): {stderr.Result}");
        }

        // kustomize separates documents with a bare `---` line; block scalars are indented, so none can contain one.
        var documents = stdout.Result.ReplaceLineEndings("\n").Split("\n---\n")
            .Where(d => !string.IsNullOrWhiteSpace(d))
            .ToList();
        return new RenderedManifests(directory, documents);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ActorGrid.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"ActorGrid.sln not found above {AppContext.BaseDirectory}");
    }
}
