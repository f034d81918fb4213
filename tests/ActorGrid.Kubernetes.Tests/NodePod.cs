using System.Text.RegularExpressions;
using ActorGrid.Configuration;
using Microsoft.Extensions.Configuration;

namespace ActorGrid.Kubernetes.Tests;

/// <summary>
/// One pod of the ActorGrid StatefulSet as the node process inside it would see itself: the container's
/// environment resolved the way the kubelet resolves it, turned into configuration the way the node's
/// <c>WebApplication.CreateBuilder</c> does.
/// </summary>
public sealed partial class NodePod
{
    public const string StatefulSetName = "actorgrid";
    public const string ContainerName = "node";

    private NodePod(RenderedManifests manifests, int ordinal)
    {
        StatefulSet = manifests.StatefulSet(StatefulSetName);
        Name = $"{StatefulSet.Metadata.Name}-{ordinal}";
        var containers = StatefulSet.Spec.Template.Spec.Containers;
        Assert.True(containers.Count(c => c.Name == ContainerName) == 1,
            $"StatefulSet {StatefulSetName} has no single container named '{ContainerName}' (has: {string.Join(", ", containers.Select(c => c.Name))})");
        Container = containers.Single(c => c.Name == ContainerName);
        Environment = ResolveEnvironment(manifests, Container, Name);
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(ToConfiguration(Environment)).Build();
    }

    public StatefulSet StatefulSet { get; }

    /// <summary>The pod's name, e.g. <c>actorgrid-1</c>.</summary>
    public string Name { get; }

    public Container Container { get; }

    /// <summary>The container's environment variables with <c>$(VAR)</c>, field and secret references resolved.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>The configuration the node builds from <see cref="Environment"/>.</summary>
    public IConfiguration Configuration { get; }

    /// <summary>The pod with ordinal <paramref name="ordinal"/> of the StatefulSet in <paramref name="manifests"/>.</summary>
    public static NodePod Of(RenderedManifests manifests, int ordinal) => new(manifests, ordinal);

    /// <summary>Every pod of the StatefulSet at its rendered replica count.</summary>
    public static IReadOnlyList<NodePod> All(RenderedManifests manifests) =>
        Enumerable.Range(0, manifests.StatefulSet(StatefulSetName).Spec.Replicas).Select(i => Of(manifests, i)).ToList();

    /// <summary>Binds the options exactly as the node does at start (unknown keys and bad values refused).</summary>
    public ActorGridOptions BindOptions() => ActorGridOptionsValidator.Bind(Configuration);

    /// <summary>The container port a probe or a Service's targetPort refers to, by number or by name.</summary>
    public int ContainerPort(string portReference)
    {
        if (int.TryParse(portReference, out var number))
        {
            Assert.True(Container.Ports.Any(p => p.ContainerPort == number),
                $"port {number} is not a declared container port of {ContainerName} ({Ports()})");
            return number;
        }

        var named = Container.Ports.Where(p => p.Name == portReference).ToList();
        Assert.True(named.Count == 1, $"no container port named '{portReference}' ({Ports()})");
        return named[0].ContainerPort;
    }

    private string Ports() => string.Join(", ", Container.Ports.Select(p => $"{p.Name}={p.ContainerPort}"));

    // Kubernetes semantics: variables resolve in order; $(NAME) refers to an earlier one, $$ escapes, and a
    // reference to an unknown name stays as written.
    private static Dictionary<string, string> ResolveEnvironment(RenderedManifests manifests, Container container, string podName)
    {
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in container.Env)
        {
            resolved[variable.Name] = variable.ValueFrom switch
            {
                null => Reference().Replace(variable.Value ?? "", m =>
                    m.Value == "$$" ? "$" : resolved.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value),
                { FieldRef.FieldPath: "metadata.name" } => podName,
                { SecretKeyRef: { } secret } => manifests.SecretValue(secret.Name, secret.Key),
                _ => throw new NotSupportedException($"the specs cannot resolve the source of environment variable {variable.Name}"),
            };
        }

        return resolved;
    }

    // What WebApplication.CreateBuilder does with the process environment: every variable becomes a key with
    // "__" read as ":", and ASPNETCORE_-prefixed ones also appear without the prefix (ASPNETCORE_URLS -> urls).
    private static IEnumerable<KeyValuePair<string, string?>> ToConfiguration(IReadOnlyDictionary<string, string> environment)
    {
        const string AspNetCorePrefix = "ASPNETCORE_";
        foreach (var (name, value) in environment)
        {
            yield return new(name.Replace("__", ":", StringComparison.Ordinal), value);
            if (name.StartsWith(AspNetCorePrefix, StringComparison.OrdinalIgnoreCase))
            {
                yield return new(name[AspNetCorePrefix.Length..].Replace("__", ":", StringComparison.Ordinal), value);
            }
        }
    }

    [GeneratedRegex(@"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")]
    private static partial Regex Reference();
}
