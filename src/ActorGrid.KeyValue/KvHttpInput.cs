#nullable enable
using System.Globalization;
using System.Text;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue;

/// <summary>
/// Parsing of the KV HTTP API's inputs (key from the request target, <c>If-Match</c>, <c>If-None-Match</c>,
/// <c>Idempotency-Key</c>, <c>ttl</c>, <c>limit</c>, <c>consistency</c>). Each parser returns an error sentence for a 400 or null.
/// </summary>
public static class KvHttpInput
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The key of a <c>/kv/{key}</c> request, percent-decoded from the raw request target so that every key
    /// round-trips exactly (<c>%2F</c> is a <c>/</c> inside the key like a literal one; invalid UTF-8 is refused).
    /// </summary>
    public static string? DecodeKey(string rawTarget, string routePrefix, out string key)
    {
        key = "";
        var path = rawTarget;
        var query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            path = path[..query];
        }

        if (!path.StartsWith(routePrefix, StringComparison.Ordinal))
        {
            return "the request target is not under " + routePrefix;
        }

        var encoded = path[routePrefix.Length..];
        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '%')
            {
                if (i + 2 >= encoded.Length || !byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
                {
                    return "the key has a malformed percent-escape";
                }

                bytes.Add(b);
                i += 2;
            }
            else if (c > 0x7F)
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
            else
            {
                bytes.Add((byte)c);
            }
        }

        try
        {
            key = StrictUtf8.GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            return "the key is not valid UTF-8";
        }

        return KvKeys.Validate(key);
    }

    /// <summary>The precondition of a write from its <c>If-Match</c> / <c>If-None-Match</c> headers.</summary>
    public static string? ParsePrecondition(string? ifMatch, string? ifNoneMatch, bool allowIfNoneMatch, out Precondition precondition)
    {
        precondition = Precondition.None;
        if (ifMatch is not null && ifNoneMatch is not null)
        {
            return "If-Match and If-None-Match cannot be combined";
        }

        if (ifNoneMatch is not null)
        {
            if (!allowIfNoneMatch || ifNoneMatch.Trim() != "*")
            {
                return allowIfNoneMatch
                    ? $"If-None-Match must be * (create only), got '{ifNoneMatch}'"
                    : "If-None-Match is not supported here";
            }

            precondition = Precondition.Absent;
            return null;
        }

        if (ifMatch is null)
        {
            return null;
        }

        var value = ifMatch.Trim();
        if (value == "*")
        {
            precondition = Precondition.Exists;
            return null;
        }

        if (value.Length < 3 || value[0] != '"' || value[^1] != '"'
            || !long.TryParse(value.AsSpan(1, value.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || version < 1)
        {
            return $"If-Match must be * or one strong ETag \"<version>\" with a version of at least 1, got '{ifMatch}'";
        }

        precondition = Precondition.ForVersion(version);
        return null;
    }

    /// <summary>
    /// The <c>Idempotency-Key</c> of a write from the header's <paramref name="values"/> (null when absent): one value of
    /// 1–255 visible ASCII characters. A value in double quotes (the structured-field string of the IETF
    /// <c>Idempotency-Key</c> draft) is taken without them, so <c>"abc"</c> and <c>abc</c> are the same key.
    /// </summary>
    public static string? ParseIdempotencyKey(IReadOnlyList<string?> values, out string? key)
    {
        key = null;
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1)
        {
            return "Idempotency-Key must be given once";
        }

        var value = values[0] ?? "";
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            value = value[1..^1];
        }

        if (IdempotencyLimits.Validate(value) is { } error)
        {
            return error;
        }

        if (value.Contains('"', StringComparison.Ordinal))
        {
            return "Idempotency-Key must be one token, or one string in double quotes";
        }

        key = value;
        return null;
    }

    /// <summary>The <c>ttl</c> query parameter in seconds (null when absent).</summary>
    public static string? ParseTtl(string? ttl, out long? seconds)
    {
        seconds = null;
        if (ttl is null)
        {
            return null;
        }

        if (!long.TryParse(ttl, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value is < 1 or > Settings.MaxTtlSeconds)
        {
            return $"ttl must be a whole number of seconds between 1 and {Settings.MaxTtlSeconds}, got '{ttl}'";
        }

        seconds = value;
        return null;
    }

    /// <summary>The <c>limit</c> query parameter of a scan (default <see cref="Settings.DefaultScanLimit"/>).</summary>
    public static string? ParseLimit(string? limit, out int value)
    {
        value = Settings.DefaultScanLimit;
        if (limit is null)
        {
            return null;
        }

        if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out value) || value is < 1 or > Settings.MaxScanLimit)
        {
            return $"limit must be between 1 and {Settings.MaxScanLimit}, got '{limit}'";
        }

        return null;
    }

    /// <summary>The <c>consistency</c> query parameter: true for <c>replica</c>, false for <c>strong</c> (default).</summary>
    public static string? ParseConsistency(string? consistency, out bool replica)
    {
        replica = false;
        switch (consistency)
        {
            case null or "strong":
                return null;
            case "replica":
                replica = true;
                return null;
            default:
                return $"consistency must be strong or replica, got '{consistency}'";
        }
    }
}
