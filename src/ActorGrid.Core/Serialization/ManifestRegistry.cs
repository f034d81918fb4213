#nullable enable
namespace ActorGrid.Serialization;

/// <summary>
/// The explicit manifest table: every wire or persisted type with the stable name it is written under.
/// Manifests are part of the journal format: never rename one, add a new versioned type instead.
/// </summary>
public sealed class ManifestRegistry
{
    private readonly Dictionary<string, Type> _byManifest = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, string> _byType = [];

    /// <summary>All registered (manifest, type) pairs.</summary>
    public IReadOnlyDictionary<string, Type> Entries => _byManifest;

    /// <summary>Registers <typeparamref name="T"/> under <paramref name="manifest"/>.</summary>
    public ManifestRegistry Add<T>(string manifest) where T : IActorGridMessage => Add(typeof(T), manifest);

    /// <summary>Registers <paramref name="type"/> under <paramref name="manifest"/>.</summary>
    public ManifestRegistry Add(Type type, string manifest)
    {
        if (!typeof(IActorGridMessage).IsAssignableFrom(type))
        {
            throw new ArgumentException($"{type} does not implement {nameof(IActorGridMessage)}", nameof(type));
        }

        if (_byManifest.TryGetValue(manifest, out var existing) && existing != type)
        {
            throw new ArgumentException($"Manifest '{manifest}' is already bound to {existing}", nameof(manifest));
        }

        if (_byType.TryGetValue(type, out var existingManifest) && existingManifest != manifest)
        {
            throw new ArgumentException($"{type} is already bound to manifest '{existingManifest}'", nameof(type));
        }

        _byManifest[manifest] = type;
        _byType[type] = manifest;
        return this;
    }

    /// <summary>The manifest of <paramref name="type"/>, if registered.</summary>
    public bool TryGetManifest(Type type, out string manifest) => _byType.TryGetValue(type, out manifest!);

    /// <summary>The type registered under <paramref name="manifest"/>, if any.</summary>
    public bool TryGetType(string manifest, out Type type) => _byManifest.TryGetValue(manifest, out type!);
}
