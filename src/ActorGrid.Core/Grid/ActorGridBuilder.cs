#nullable enable
using ActorGrid.Serialization;

namespace ActorGrid.Grid;

/// <summary>Collects the roles a node (or an embedding service) runs. Role packages add <c>With&lt;Role&gt;()</c> extensions.</summary>
public sealed class ActorGridBuilder
{
    private readonly List<IGridRole> _roles = [];

    /// <summary>The roles added so far, in order.</summary>
    public IReadOnlyList<IGridRole> Roles => _roles;

    /// <summary>Adds a role. Adding the same role name twice is an error.</summary>
    public ActorGridBuilder AddRole(IGridRole role)
    {
        if (_roles.Any(r => r.Name == role.Name))
        {
            throw new ArgumentException($"Role '{role.Name}' was added twice", nameof(role));
        }

        _roles.Add(role);
        return this;
    }

    /// <summary>The manifest table of the core and every added role.</summary>
    public ManifestRegistry BuildManifests()
    {
        var registry = new ManifestRegistry();
        foreach (var role in _roles)
        {
            role.RegisterManifests(registry);
        }

        return registry;
    }
}
