#nullable enable
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ActorGrid.Client;

/// <summary>
/// How the client reaches a secured node, with or without a service container: the bearer token of every request and
/// the transport that trusts the cluster's CA (PEM) for HTTPS instead of the system store.
/// </summary>
internal static class NodeTransport
{
    /// <summary>
    /// The transport under the client's handlers. A short connect timeout: a crashed node refuses or never answers
    /// the connect, and failing fast there is what lets the call move on to the next node.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(ActorGridClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = DecompressionMethods.All,
            // Nodes come and go behind one DNS name (a Kubernetes headless Service): see them change.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        };
        if (options.CaCertificatePath is { Length: > 0 } caPath)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caPath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is X509Certificate2 presented && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                && ChainsTo(presented, roots);
        }

        return handler;
    }

    /// <summary>Sends <see cref="ActorGridClientOptions.Token"/> with every request of <paramref name="http"/>.</summary>
    public static void Authorize(HttpClient http, ActorGridClientOptions options)
    {
        if (options.Token is { Length: > 0 } token)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
