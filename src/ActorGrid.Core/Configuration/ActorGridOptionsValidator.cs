#nullable enable
using System.Net;
using Microsoft.Extensions.Configuration;

namespace ActorGrid.Configuration;

/// <summary>Binds and validates <see cref="ActorGridOptions"/> so that bad configuration fails at start, naming the key.</summary>
public static class ActorGridOptionsValidator
{
    /// <summary>
    /// Binds the <c>ActorGrid</c> section, refusing unknown keys and unconvertible values, then validates.
    /// </summary>
    /// <exception cref="ActorGridConfigurationException">with one line naming the first bad key.</exception>
    public static ActorGridOptions Bind(IConfiguration configuration)
    {
        var section = configuration.GetSection(ActorGridOptions.SectionName);
        ActorGridOptions options;
        try
        {
            options = section.Get<ActorGridOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new ActorGridOptions();
        }
        catch (InvalidOperationException e)
        {
            throw new ActorGridConfigurationException($"Invalid configuration: {FirstLine(e)}", e);
        }

        ThrowIfInvalid(options);
        return options;
    }

    /// <summary>Throws <see cref="ActorGridConfigurationException"/> for the first problem found.</summary>
    public static void ThrowIfInvalid(ActorGridOptions options)
    {
        var error = Validate(options).FirstOrDefault();
        if (error is not null)
        {
            throw new ActorGridConfigurationException($"Invalid configuration: {error}");
        }
    }

    /// <summary>Every problem with <paramref name="options"/>, each naming its key.</summary>
    public static IEnumerable<string> Validate(ActorGridOptions options)
    {
        const string p = ActorGridOptions.SectionName + ":";
        if (string.IsNullOrWhiteSpace(options.ClusterName) || !options.ClusterName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            yield return $"{p}ClusterName must be letters, digits, '-' or '_' (got '{options.ClusterName}')";
        }

        if (string.IsNullOrWhiteSpace(options.Hostname))
        {
            yield return $"{p}Hostname must not be empty";
        }

        if (options.Port is < 0 or > 65535)
        {
            yield return $"{p}Port must be between 0 and 65535 (got {options.Port})";
        }

        for (var i = 0; i < options.Seeds.Count; i++)
        {
            if (!TryParseHostPort(options.Seeds[i], out _, out _))
            {
                yield return $"{p}Seeds:{i} must be host:port (got '{options.Seeds[i]}')";
            }
        }

        for (var i = 0; i < options.Roles.Count; i++)
        {
            var role = options.Roles[i];
            if (string.IsNullOrWhiteSpace(role) || !role.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                yield return $"{p}Roles:{i} must be a role name such as kv, broker or mapreduce (got '{role}')";
            }
        }

        if (options.Persistence.Provider == PersistenceProvider.PostgreSql && string.IsNullOrWhiteSpace(options.Persistence.ConnectionString))
        {
            yield return $"{p}Persistence:ConnectionString is required when Persistence:Provider is PostgreSql";
        }

        if (options.Persistence.Provider == PersistenceProvider.Sqlite && string.IsNullOrWhiteSpace(options.DataDir) && string.IsNullOrWhiteSpace(options.Persistence.ConnectionString))
        {
            yield return $"{p}DataDir must not be empty";
        }

        if (options.Persistence.SnapshotEvery < 1)
        {
            yield return $"{p}Persistence:SnapshotEvery must be at least 1 (got {options.Persistence.SnapshotEvery})";
        }

        if (options.Persistence.WriteParallelism is < 1 or > 64)
        {
            yield return $"{p}Persistence:WriteParallelism must be between 1 and 64 (got {options.Persistence.WriteParallelism})";
        }

        if (options.Persistence.WriteBatchSize is < 1 or > 100_000)
        {
            yield return $"{p}Persistence:WriteBatchSize must be between 1 and 100000 (got {options.Persistence.WriteBatchSize})";
        }

        if (options.Kv.Partitions is < 1 or > 65536)
        {
            yield return $"{p}Kv:Partitions must be between 1 and 65536 (got {options.Kv.Partitions})";
        }

        if (options.Kv.MaxValueBytes is < 1 or > 64 * 1024 * 1024)
        {
            yield return $"{p}Kv:MaxValueBytes must be between 1 and 67108864 (got {options.Kv.MaxValueBytes})";
        }

        if (options.Broker.MaxMessageBytes is < 1 or > 64 * 1024 * 1024)
        {
            yield return $"{p}Broker:MaxMessageBytes must be between 1 and 67108864 (got {options.Broker.MaxMessageBytes})";
        }

        // Every other role setting is a size, a count, a factor or a duration: zero or less is never meant.
        foreach (var (section, settings) in new (string, object)[] { ("Kv", options.Kv), ("Broker", options.Broker), ("MapReduce", options.MapReduce) })
        {
            foreach (var property in settings.GetType().GetProperties())
            {
                var value = property.GetValue(settings);
                if (value is int and < 1 or long and < 1 or double and <= 0 || value is TimeSpan t && t <= TimeSpan.Zero)
                {
                    yield return $"{p}{section}:{property.Name} must be positive (got {value})";
                }
            }
        }

        var fd = options.FailureDetection;
        if (fd.HeartbeatInterval <= TimeSpan.Zero)
        {
            yield return $"{p}FailureDetection:HeartbeatInterval must be positive (got {fd.HeartbeatInterval})";
        }

        if (fd.AcceptableHeartbeatPause < fd.HeartbeatInterval)
        {
            yield return $"{p}FailureDetection:AcceptableHeartbeatPause must be at least HeartbeatInterval (got {fd.AcceptableHeartbeatPause})";
        }

        if (fd.StableAfter <= TimeSpan.Zero)
        {
            yield return $"{p}FailureDetection:StableAfter must be positive (got {fd.StableAfter})";
        }

        if (options.StatefulSet is { } sts)
        {
            if (StatefulSetOrdinal(sts.PodName) is null)
            {
                yield return $"{p}StatefulSet:PodName must end in -<ordinal> (got '{sts.PodName}')";
            }

            if (string.IsNullOrWhiteSpace(sts.ServiceName))
            {
                yield return $"{p}StatefulSet:ServiceName must not be empty";
            }

            if (sts.Replicas < 1)
            {
                yield return $"{p}StatefulSet:Replicas must be at least 1 (got {sts.Replicas})";
            }

            if (sts.SeedCount < 1 || sts.SeedCount > sts.Replicas)
            {
                yield return $"{p}StatefulSet:SeedCount must be between 1 and Replicas ({sts.Replicas}) (got {sts.SeedCount})";
            }
        }

        foreach (var error in ValidateSecurity(options))
        {
            yield return error;
        }
    }

    /// <summary>Whether <paramref name="hostname"/> is <c>localhost</c> or a loopback IP address.</summary>
    public static bool IsLoopback(string hostname) =>
        string.Equals(hostname, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(hostname.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static IEnumerable<string> ValidateSecurity(ActorGridOptions options)
    {
        const string p = ActorGridOptions.SectionName + ":Security:";
        var security = options.Security;
        // Files are read (and their problems reported, naming the key) when the node starts: a Kubernetes Secret is
        // mounted in the pod, not where the manifests are checked.
        if (security.Tls is { } tls)
        {
            if (string.IsNullOrWhiteSpace(tls.Certificate))
            {
                yield return $"{p}Tls:Certificate is required when {p}Tls is set";
            }

            if (string.IsNullOrWhiteSpace(tls.CaCertificate))
            {
                yield return $"{p}Tls:CaCertificate is required when {p}Tls is set";
            }
        }

        if (security.Https is { } https && string.IsNullOrWhiteSpace(https.Certificate))
        {
            yield return $"{p}Https:Certificate is required when {p}Https is set";
        }

        // Protected mode (SPEC §11), as Redis does it: reachable from the network means closed unless the operator says otherwise.
        if (!security.Insecure && !IsLoopback(options.Hostname) && (security.Tls is null || string.IsNullOrWhiteSpace(security.TokensFile)))
        {
            yield return $"{ActorGridOptions.SectionName}:Security: Hostname '{options.Hostname}' is not a loopback address, so remoting TLS "
                         + $"({p}Tls) and tokens ({p}TokensFile) are required; set {p}Insecure=true (--insecure) to run without them";
        }
    }

    /// <summary>Parses <c>host:port</c>.</summary>
    public static bool TryParseHostPort(string value, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = value[..colon];
        return Uri.CheckHostName(host.Trim('[', ']')) != UriHostNameType.Unknown || IPAddress.TryParse(host, out _);
    }

    /// <summary>The ordinal at the end of a StatefulSet pod name (<c>actorgrid-2</c> → 2), or null.</summary>
    public static int? StatefulSetOrdinal(string podName)
    {
        var dash = podName.LastIndexOf('-');
        return dash > 0 && int.TryParse(podName.AsSpan(dash + 1), out var ordinal) && ordinal >= 0 ? ordinal : null;
    }

    private static string FirstLine(Exception e) => e.Message.Split('\n')[0].Trim();
}
