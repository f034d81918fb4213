#nullable enable
using ActorGrid.Configuration;

namespace ActorGrid.Grid;

/// <summary>What a role needs to know about the node it is being configured on.</summary>
/// <param name="Options">The node's options.</param>
/// <param name="Roles">The roles this node hosts: <c>ActorGrid:Roles</c>, or every role added to the grid when that is empty.</param>
public sealed record GridContext(ActorGridOptions Options, IReadOnlyList<string> Roles)
{
    /// <summary>The context of a node with <paramref name="options"/> built with the roles of <paramref name="grid"/>.</summary>
    public static GridContext For(ActorGridOptions options, ActorGridBuilder grid) =>
        new(options, options.Roles.Count > 0 ? options.Roles : grid.Roles.Select(r => r.Name).ToList());

    /// <summary>Whether this node hosts entities of <paramref name="role"/> (otherwise it only proxies to them).</summary>
    public bool Hosts(string role) => Roles.Contains(role, StringComparer.Ordinal);
}
