#nullable enable
namespace ActorGrid.Client;

/// <summary>
/// How <see cref="ActorGridClientServiceCollectionExtensions.AddActorGridClient(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{ActorGridClientOptions})"/>
/// reaches a cluster: its nodes, and how long and how often a call may be tried. Binds from configuration
/// (section <c>ActorGridClient</c>: <c>Nodes:0</c>, <c>AttemptTimeout</c>, ...).
/// </summary>
public sealed class ActorGridClientOptions
{
    /// <summary>The configuration section the client's options bind from.</summary>
    public const string SectionName = "ActorGridClient";

    /// <summary>
    /// Base addresses of the cluster's nodes (e.g. <c>http://node-1:5080</c>). Any node serves any request: calls go
    /// to one node and move to the next when it cannot be reached or cannot serve.
    /// </summary>
    public IList<Uri> Nodes { get; set; } = [];

    /// <summary>How long one attempt at one node may take (covers long-polls: keep it above their <c>waitMs</c>).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a call may take over all its attempts.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Retries after the first attempt. A call is retried only when that is safe: it never reached a node, or it is a
    /// read, a conditional write, an idempotent produce or a write carrying an <c>Idempotency-Key</c>.
    /// </summary>
    public int MaxRetryAttempts { get; set; } = 10;

    /// <summary>Base delay between attempts (exponential with jitter); a node's <c>Retry-After</c> takes precedence.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay between two attempts.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The bearer token sent with every call (<c>Authorization: Bearer</c>), for nodes with <c>Security:TokensFile</c>;
    /// null for nodes without tokens. Bind it from a secret (e.g. <c>ActorGridClient__Token</c>), not a checked-in file.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>
    /// A PEM file of the CA that signed the nodes' HTTPS certificates (<c>Security:Https</c>), trusted for these calls
    /// instead of the system store; null to use the system store.
    /// </summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>The first problem with these options, naming the key, or null.</summary>
    public string? Validate()
    {
        const string p = SectionName + ":";
        if (Nodes.Count == 0)
        {
            return $"{p}Nodes must name at least one node address";
        }

        for (var i = 0; i < Nodes.Count; i++)
        {
            if (Nodes[i] is not { IsAbsoluteUri: true } uri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                return $"{p}Nodes:{i} must be an absolute http(s) URL (got '{Nodes[i]}')";
            }
        }

        if (AttemptTimeout <= TimeSpan.Zero || TotalTimeout < AttemptTimeout)
        {
            return $"{p}AttemptTimeout must be positive and at most TotalTimeout (got {AttemptTimeout} and {TotalTimeout})";
        }

        if (Token is { } token && (token.Length == 0 || token.Any(char.IsWhiteSpace)))
        {
            return $"{p}Token must be one non-empty word without spaces";
        }

        if (CaCertificatePath is { } ca && !File.Exists(ca))
        {
            return $"{p}CaCertificatePath names no file ('{ca}')";
        }

        if (MaxRetryAttempts < 0)
        {
            return $"{p}MaxRetryAttempts must not be negative (got {MaxRetryAttempts})";
        }

        return RetryDelay <= TimeSpan.Zero || MaxRetryDelay < RetryDelay
            ? $"{p}RetryDelay must be positive and at most MaxRetryDelay (got {RetryDelay} and {MaxRetryDelay})"
            : null;
    }
}
