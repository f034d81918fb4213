#nullable enable
using System.Text;
using ActorGrid.Kafka.Protocol;

namespace ActorGrid.Kafka;

internal sealed partial class KafkaApiHandler
{
    private const string Plain = "PLAIN";

    /// <summary>SaslHandshake v1 (the SASL exchange then goes in SaslAuthenticate requests): PLAIN only.</summary>
    private static KafkaWriter SaslHandshake(KafkaReader body, KafkaSession session)
    {
        var mechanism = body.String(false);
        var w = new KafkaWriter();
        if (mechanism != Plain)
        {
            return w.Int16(KafkaError.UnsupportedSaslMechanism).Array([Plain], false, (w, m) => w.String(m, false));
        }

        session.SaslMechanism = mechanism;
        return w.Int16(KafkaError.None).Array([Plain], false, (w, m) => w.String(m, false));
    }

    /// <summary>SaslAuthenticate v0-1 with PLAIN (RFC 4616: authzid NUL user NUL password; the password is an ActorGrid token).</summary>
    private async Task<KafkaWriter> SaslAuthenticateAsync(short v, KafkaReader body, KafkaSession session)
    {
        var bytes = body.NullableBytes(false) ?? [];
        var w = new KafkaWriter();
        if (session.SaslMechanism != Plain || session.Principal is not null)
        {
            return SaslResult(w, v, KafkaError.IllegalSaslState, session.Principal is null ? "SaslHandshake with PLAIN must come first" : "already authenticated");
        }

        var parts = Encoding.UTF8.GetString(bytes).Split('\0');
        var principal = parts.Length == 3 ? await _authenticator.AuthenticatePlainAsync(parts[1], parts[2], CancellationToken.None) : null;
        if (principal is null)
        {
            return SaslResult(w, v, KafkaError.SaslAuthenticationFailed, "invalid user or token");
        }

        session.Principal = principal;
        return SaslResult(w, v, KafkaError.None, null);
    }

    private static KafkaWriter SaslResult(KafkaWriter w, short v, short error, string? message)
    {
        w.Int16(error).String(message, false).Bytes([], false);
        if (v >= 1)
        {
            w.Int64(0);
        }

        return w;
    }
}
