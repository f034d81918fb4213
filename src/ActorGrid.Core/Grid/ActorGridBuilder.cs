#nullable enable
using ActorGrid.Serialization;
using Akka.Hosting;

namespace ActorGrid.Grid;

/// <summary>Collects the roles a node (or an embedding service) runs. Role packages add <c>With&lt;Role&gt;()</c> extensions.</summary>
public sealed class ActorGridBuilder
{
    private readonly List<IGridRole> _roles = [];
    private readonly List<Action<AkkaConfigurationBuilder>> _akka = [];

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

    /// <summary>Akka.Hosting customisations applied after the grid's own configuration (later ones win).</summary>
    public IReadOnlyList<Action<AkkaConfigurationBuilder>> AkkaCustomisations => _akka;

    /// <summary>
    /// Adds Akka.Hosting configuration of the embedding service (extra HOCON, actors, regions); applied after the
    /// grid's own configuration, so HOCON added with <see cref="HoconAddMode.Prepend"/> overrides it.
    /// </summary>
    public ActorGridBuilder ConfigureAkka(Action<AkkaConfigurationBuilder> configure)
    {
        _akka.Add(configure);
        return this;
    }

    /// <summary>The manifest table of the core and every added role.</summary>
    public ManifestRegistry BuildManifests()
    {
        var registry = new ManifestRegistry()
            .Add<Coordination.OwnershipLapsed>(Coordination.OwnershipLapsed.Manifest)
            .Add<RequestDropped>(RequestDropped.Manifest);
        foreach (var role in _roles)
        {
            role.RegisterManifests(registry);
        }

        return registry;
    }
}
