#nullable enable
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ActorGrid.Client;

/// <summary>
/// How to reach a secured node: a bearer token sent with every request and the CA (PEM) that signed the node's HTTPS
/// certificate, trusted instead of the system store.
/// </summary>
/// <param name="Token">The bearer token, or null for a node without tokens.</param>
/// <param name="CaCertificatePath">A PEM file of the CA(s) to trust for HTTPS, or null for the system store.</param>
public sealed record ActorGridConnection(string? Token = null, string? CaCertificatePath = null)
{
    /// <summary>An <see cref="HttpClient"/> for the node at <paramref name="node"/> with this token and CA.</summary>
    public HttpClient CreateHttpClient(Uri node, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), AutomaticDecompression = DecompressionMethods.All };
        if (CaCertificatePath is { Length: > 0 } caPath)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caPath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is X509Certificate2 presented && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                && ChainsTo(presented, roots);
        }

        var http = new HttpClient(handler) { BaseAddress = node, Timeout = timeout };
        if (Token is { Length: > 0 } token)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
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
