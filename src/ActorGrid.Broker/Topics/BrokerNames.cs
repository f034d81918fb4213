#nullable enable
using System.Text.RegularExpressions;

namespace ActorGrid.Broker.Topics;

/// <summary>Names of topics, groups, producers and members: <c>[A-Za-z0-9._-]{1,200}</c>.</summary>
public static partial class BrokerNames
{
    /// <summary>Whether <paramref name="name"/> is a valid topic, group, producer or member name.</summary>
    public static bool IsValid(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>A one-line explanation of why <paramref name="name"/> is not valid.</summary>
    public static string Explain(string what, string? name) =>
        $"{what} name '{name}' is invalid: use 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'";

    [GeneratedRegex("^[A-Za-z0-9._-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
