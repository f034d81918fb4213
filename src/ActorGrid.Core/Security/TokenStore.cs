#nullable enable
using System.Security.Cryptography;
using System.Text;
using ActorGrid.Configuration;

namespace ActorGrid.Security;

/// <summary>
/// The bearer tokens of <c>Security:TokensFile</c> (SPEC §11): one token a line, <c>&lt;token&gt; &lt;scope&gt;[,&lt;scope&gt;...]</c>;
/// blank lines and lines starting with <c>#</c> are ignored. Tokens are kept only as SHA-256 hashes, looked up by
/// the hash of what a client presents, so neither memory dumps of the table nor timing reveal a token.
/// A store made with <see cref="Open"/> (no tokens configured) lets every caller in as <see cref="GridPrincipal.Unauthenticated"/>.
/// </summary>
public sealed class TokenStore
{
    /// <summary>Shortest token accepted: guessing one must be hopeless.</summary>
    public const int MinimumTokenLength = 16;

    private readonly Dictionary<string, GridPrincipal>? _byHash;

    private TokenStore(Dictionary<string, GridPrincipal>? byHash) => _byHash = byHash;

    /// <summary>Whether callers must present a token.</summary>
    public bool RequiresToken => _byHash is not null;

    /// <summary>A store that requires no token (no <c>Security:TokensFile</c>).</summary>
    public static TokenStore Open { get; } = new(null);

    /// <summary>The store for <paramref name="options"/>: the tokens file when configured, else <see cref="Open"/>.</summary>
    /// <exception cref="ActorGridConfigurationException">when the file cannot be read or a line is malformed.</exception>
    public static TokenStore For(ActorGridOptions options) =>
        options.Security.TokensFile is { Length: > 0 } path ? Load(path) : Open;

    /// <summary>Reads a tokens file.</summary>
    /// <exception cref="ActorGridConfigurationException">naming the file and line of the first problem.</exception>
    public static TokenStore Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ActorGridConfigurationException($"Invalid configuration: {ActorGridOptions.SectionName}:Security:TokensFile '{path}' cannot be read: {e.Message}");
        }

        return Parse(lines, path);
    }

    /// <summary>Parses the lines of a tokens file (<paramref name="source"/> names it in errors).</summary>
    public static TokenStore Parse(IEnumerable<string> lines, string source)
    {
        var byHash = new Dictionary<string, GridPrincipal>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var parts = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string Fail(string why) => throw new ActorGridConfigurationException(
                $"Invalid configuration: {ActorGridOptions.SectionName}:Security:TokensFile {source} line {number}: {why}");
            if (parts.Length != 2)
            {
                Fail("expected '<token> <scope>[,<scope>...]'");
            }

            if (parts[0].Length < MinimumTokenLength)
            {
                Fail($"the token is shorter than {MinimumTokenLength} characters");
            }

            var scopes = new List<GridScope>();
            foreach (var text in parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                scopes.Add(GridScope.Parse(text, out var error) ?? throw new ActorGridConfigurationException(
                    $"Invalid configuration: {ActorGridOptions.SectionName}:Security:TokensFile {source} line {number}: {error}"));
            }

            var hash = Hash(parts[0]);
            if (!byHash.TryAdd(hash, new GridPrincipal("token-" + hash[..12], scopes)))
            {
                Fail("the same token appears twice");
            }
        }

        return new TokenStore(byHash);
    }

    /// <summary>The caller presenting <paramref name="token"/>, or null when the store requires a token and this is not one of them.</summary>
    public GridPrincipal? Authenticate(string? token)
    {
        if (_byHash is null)
        {
            return GridPrincipal.Unauthenticated;
        }

        return token is { Length: > 0 } && _byHash.TryGetValue(Hash(token), out var principal) ? principal : null;
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
