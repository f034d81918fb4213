#nullable enable
using ActorGrid.Configuration;

namespace ActorGrid.Grid;

/// <summary>What a role needs to know about the node it is being configured on.</summary>
public sealed record GridContext(ActorGridOptions Options)
{
    /// <summary>The roles this node hosts.</summary>
    public IReadOnlyList<string> Roles { get; } = ActorGridHocon.EffectiveRoles(Options);

    /// <summary>Whether this node hosts entities of <paramref name="role"/> (otherwise it only proxies to them).</summary>
    public bool Hosts(string role) => Roles.Contains(role, StringComparer.Ordinal);
}
