#nullable enable
using ActorGrid.Configuration;

namespace ActorGrid.Hosting;

/// <summary>
/// The node's short flags (<c>--port</c>, <c>--http</c>, <c>--seed</c> (repeatable), <c>--data</c>, <c>--roles</c>,
/// <c>--postgres</c>, <c>--insecure</c>, <c>--resp</c>) translated to configuration keys, so they layer over appsettings.json and environment
/// variables like any other configuration source.
/// </summary>
public static class NodeCommandLine
{
    private const string P = ActorGridOptions.SectionName + ":";

    /// <summary>Configuration key/value pairs for <paramref name="args"/>.</summary>
    /// <exception cref="ActorGridConfigurationException">for an unknown flag or a flag without its value.</exception>
    public static IReadOnlyDictionary<string, string?> ToConfiguration(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var seeds = 0;
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string Value() => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new ActorGridConfigurationException($"Invalid command line: {flag} needs a value");

            switch (flag)
            {
                case "--port": values[P + "Port"] = Value(); break;
                case "--http": values["urls"] = Value(); break;
                case "--seed": values[$"{P}Seeds:{seeds++}"] = Value(); break;
                case "--data": values[P + "DataDir"] = Value(); break;
                case "--hostname": values[P + "Hostname"] = Value(); break;
                case "--insecure": values[P + "Security:Insecure"] = "true"; break;
                case "--resp": values[P + "Resp:Port"] = Value(); break;
                case "--roles":
                    var roles = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    for (var r = 0; r < roles.Length; r++)
                    {
                        values[$"{P}Roles:{r}"] = roles[r];
                    }

                    break;
                case "--postgres":
                    values[P + "Persistence:Provider"] = nameof(PersistenceProvider.PostgreSql);
                    values[P + "Persistence:ConnectionString"] = Value();
                    break;
                default:
                    if (flag.StartsWith("--", StringComparison.Ordinal) && flag.Contains('=', StringComparison.Ordinal))
                    {
                        // Standard .NET form (--ActorGrid:Kv:Partitions=16) passes through untouched.
                        var eq = flag.IndexOf('=', StringComparison.Ordinal);
                        values[flag[2..eq]] = flag[(eq + 1)..];
                        break;
                    }

                    throw new ActorGridConfigurationException(
                        $"Invalid command line: unknown flag '{flag}' (known: --port --http --seed --data --hostname --insecure --roles --postgres --resp, or --Key:Path=value)");
            }
        }

        return values;
    }
}
