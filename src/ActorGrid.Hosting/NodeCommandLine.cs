#nullable enable
using System.CommandLine;
using ActorGrid.Configuration;

namespace ActorGrid.Hosting;

/// <summary>
/// The node's flags (<c>--port</c>, <c>--http</c>, <c>--seed</c> (repeatable), <c>--data</c>, <c>--hostname</c>,
/// <c>--roles</c>, <c>--postgres</c>, <c>--kafka</c>, <c>--resp</c>, <c>--insecure</c>, and <c>--Key:Path=value</c> for any other key), parsed with System.CommandLine
/// (so <c>--help</c> lists them) and translated to configuration keys that layer over appsettings.json and
/// environment variables like any other configuration source. A flag given twice takes its last value.
/// </summary>
public static class NodeCommandLine
{
    private const string P = ActorGridOptions.SectionName + ":";

    private static readonly Flag[] Flags =
    [
        new("--port", "port", "Remoting port (ActorGrid:Port)", v => [(P + "Port", v[^1])]),
        new("--http", "url", "HTTP listen URL, e.g. http://127.0.0.1:5080", v => [("urls", v[^1])]),
        new("--seed", "host:port", "A seed node to join (repeatable; ActorGrid:Seeds)", v => v.Select((s, i) => ($"{P}Seeds:{i}", s))),
        new("--data", "dir", "Folder of the SQLite journal (ActorGrid:DataDir)", v => [(P + "DataDir", v[^1])]),
        new("--kafka", "port", "Kafka protocol listener port; 0 turns it off (ActorGrid:Kafka:Port)", v => [(P + "Kafka:Port", v[^1])]),
        new("--hostname", "host", "Address remoting binds to (ActorGrid:Hostname)", v => [(P + "Hostname", v[^1])]),
        new("--resp", "port", "Port of the Redis protocol front door, 0 = off (ActorGrid:Resp:Port)", v => [(P + "Resp:Port", v[^1])]),
        new("--roles", "kv,broker,mapreduce", "Roles this node hosts (ActorGrid:Roles)", v => v[^1]
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select((r, i) => ($"{P}Roles:{i}", r))),
        new("--postgres", "connection string", "Use PostgreSQL as the journal (ActorGrid:Persistence)", v =>
            [(P + "Persistence:Provider", nameof(PersistenceProvider.PostgreSql)), (P + "Persistence:ConnectionString", v[^1])]),
    ];

    private static readonly Option<bool> Insecure = new("--insecure")
    {
        Description = "Run on a non-loopback hostname without remoting TLS and tokens (ActorGrid:Security:Insecure)",
    };

    /// <summary>The node's root command: its flags and <c>--help</c>; other tokens are left for <see cref="ToConfiguration(ParseResult)"/>.</summary>
    public static RootCommand Create(string description = "ActorGrid node: one cluster member serving the HTTP API")
    {
        var root = new RootCommand(description + ". Any configuration key can also be given as --Key:Path=value (e.g. --ActorGrid:Kv:Partitions=16).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        foreach (var flag in Flags)
        {
            root.Options.Add(flag.Option);
        }

        root.Options.Add(Insecure);

        return root;
    }

    /// <summary>Configuration key/value pairs for <paramref name="args"/>.</summary>
    /// <exception cref="ActorGridConfigurationException">for an unknown flag or a flag without its value.</exception>
    public static IReadOnlyDictionary<string, string?> ToConfiguration(IReadOnlyList<string> args) => ToConfiguration(Create().Parse([.. args]));

    /// <summary>Configuration key/value pairs for a parse of <see cref="Create"/>'s command.</summary>
    /// <exception cref="ActorGridConfigurationException">for an unknown flag or a flag without its value.</exception>
    public static IReadOnlyDictionary<string, string?> ToConfiguration(ParseResult parse)
    {
        if (parse.Errors.Count > 0)
        {
            throw new ActorGridConfigurationException($"Invalid command line: {parse.Errors[0].Message}");
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var flag in Flags)
        {
            if (parse.GetValue(flag.Option) is { Length: > 0 } given)
            {
                foreach (var (key, value) in flag.ToKeys(given))
                {
                    values[key] = value;
                }
            }
        }

        if (parse.GetValue(Insecure))
        {
            values[P + "Security:Insecure"] = "true";
        }

        foreach (var token in parse.UnmatchedTokens)
        {
            var eq = token.IndexOf('=', StringComparison.Ordinal);
            if (!token.StartsWith("--", StringComparison.Ordinal) || eq < 3)
            {
                throw new ActorGridConfigurationException(
                    $"Invalid command line: unknown flag '{token}' (known: {string.Join(' ', Flags.Select(f => f.Option.Name))} {Insecure.Name}, or --Key:Path=value; see --help)");
            }

            // Standard .NET form (--ActorGrid:Kv:Partitions=16) passes through untouched.
            values[token[2..eq]] = token[(eq + 1)..];
        }

        return values;
    }

    private sealed record Flag(string Name, string HelpName, string Description, Func<string[], IEnumerable<(string Key, string Value)>> ToKeys)
    {
        public Option<string[]> Option { get; } = new(Name)
        {
            Description = Description,
            HelpName = HelpName,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
    }
}
