#nullable enable
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorGrid.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace ActorGrid.Security;

/// <summary>
/// Mutual TLS on remoting (SPEC §11): the node's certificate and a validator that accepts a peer only when its
/// certificate chains to the cluster CA of <c>Security:Tls:CaCertificate</c>. The validator builds its own chain
/// with that CA as the only trust anchor (custom root trust), so neither the machine's store nor any public CA can
/// vouch for a peer. Akka.Remote calls it on both sides of every handshake and, with
/// <c>RequireMutualAuthentication</c>, the server refuses a client that presents no certificate.
/// </summary>
public static class RemotingTls
{
    /// <summary>Akka's SSL setup for <paramref name="tls"/>: mutual authentication, host names not checked (the CA is the identity).</summary>
    public static DotNettySslSetup Setup(TlsOptions tls) =>
        new(LoadCertificate(tls.Certificate!, tls.PrivateKey, tls.Password, "Tls"), suppressValidation: false,
            requireMutualAuthentication: true, validateCertificateHostname: false, customValidator: Validator(LoadCa(tls.CaCertificate!)));

    /// <summary>
    /// A validator accepting exactly the certificates that chain to one of <paramref name="roots"/> and are valid
    /// now. Intermediates the peer sent are used to build the chain but are never trusted as anchors.
    /// </summary>
    public static CertificateValidationCallback Validator(X509Certificate2Collection roots) =>
        (certificate, chain, peer, _, log) =>
        {
            if (certificate is null)
            {
                log.Warning("Refused remoting peer {Peer}: it presented no certificate", peer);
                return false;
            }

            var error = ChainError(certificate, roots, chain);
            if (error is null)
            {
                return true;
            }

            log.Warning("Refused remoting peer {Peer}: certificate {Subject} does not chain to the cluster CA ({Reason})", peer, certificate.Subject, error);
            return false;
        };

    /// <summary>Null when <paramref name="certificate"/> chains to one of <paramref name="roots"/>; otherwise why not.</summary>
    public static string? ChainError(X509Certificate2 certificate, X509Certificate2Collection roots, X509Chain? presented = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        // Rotation is by restart with new files; there is no CRL/OCSP service inside a cluster to ask.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                if (!element.Certificate.Equals(certificate))
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
        }

        return chain.Build(certificate)
            ? null
            : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("chain did not build"));
    }

    /// <summary>
    /// A certificate with its private key from a PEM pair or a PFX/PKCS#12 file. <paramref name="area"/> names the
    /// options section in errors (<c>Tls</c>, <c>Https</c>).
    /// </summary>
    /// <exception cref="ActorGridConfigurationException">naming the key when a file is missing or unreadable.</exception>
    public static X509Certificate2 LoadCertificate(string path, string? keyPath, string? password, string area)
    {
        var key = $"{ActorGridOptions.SectionName}:Security:{area}:Certificate";
        try
        {
            if (IsPem(path))
            {
                using var pem = X509Certificate2.CreateFromPemFile(path, keyPath ?? path);
                // SslStream wants a key it can use on every platform: a PEM key is ephemeral, a PKCS#12 import is not.
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }

            var pfx = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            return pfx.HasPrivateKey ? pfx : throw new ActorGridConfigurationException($"Invalid configuration: {key} '{path}' has no private key");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ActorGridConfigurationException($"Invalid configuration: {key} '{path}' (key '{keyPath}') cannot be loaded: {e.Message}");
        }
    }

    /// <summary>The CA certificates of a PEM file (several during a CA rotation).</summary>
    /// <exception cref="ActorGridConfigurationException">when the file holds no certificate.</exception>
    public static X509Certificate2Collection LoadCa(string path)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ActorGridConfigurationException($"Invalid configuration: {ActorGridOptions.SectionName}:Security:Tls:CaCertificate '{path}' cannot be read: {e.Message}");
        }

        return roots.Count > 0
            ? roots
            : throw new ActorGridConfigurationException($"Invalid configuration: {ActorGridOptions.SectionName}:Security:Tls:CaCertificate '{path}' holds no PEM certificate");
    }

    private static bool IsPem(string path)
    {
        using var reader = new StreamReader(path);
        var buffer = new char[64];
        var read = reader.ReadBlock(buffer, 0, buffer.Length);
        return new string(buffer, 0, read).Contains("-----BEGIN", StringComparison.Ordinal);
    }
}
