#nullable enable
using ActorGrid.Naming;

namespace ActorGrid.Broker.Topics;

/// <summary>Names of topics, groups, producers and members: <c>[A-Za-z0-9._-]{1,200}</c> (<see cref="GridNames.Broker"/>).</summary>
public static class BrokerNames
{
    /// <summary>Whether <paramref name="name"/> is a valid topic, group, producer or member name.</summary>
    public static bool IsValid(string? name) => GridNames.Broker.IsValid(name);

    /// <summary>A one-line explanation of why <paramref name="name"/> is not valid.</summary>
    public static string Explain(string what, string? name) =>
        $"{what} name '{name}' is invalid: use {GridNames.Broker.Describe()}";
}
