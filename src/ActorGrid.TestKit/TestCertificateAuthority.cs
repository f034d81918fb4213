#nullable enable
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorGrid.Configuration;

namespace ActorGrid.TestKit;

/// <summary>
/// A throwaway cluster CA made in-process (ECDSA P-256, <see cref="CertificateRequest"/>), issuing node certificates as
/// PEM files under a folder, in the shape <c>Security:Tls</c> reads: nothing is checked in, nothing outlives the spec.
/// </summary>
public sealed class TestCertificateAuthority
{
    private readonly X509Certificate2 _ca;
    private readonly string _folder;

    private TestCertificateAuthority(X509Certificate2 ca, string folder, string caPath)
    {
        _ca = ca;
        _folder = folder;
        CaCertificatePath = caPath;
    }

    /// <summary>The CA certificate (PEM), for <c>Security:Tls:CaCertificate</c> or a client's <c>--ca</c>.</summary>
    public string CaCertificatePath { get; }

    /// <summary>Makes a CA named <paramref name="name"/> writing its files under <paramref name="folder"/>.</summary>
    public static TestCertificateAuthority Create(string name, string folder)
    {
        Directory.CreateDirectory(folder);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var caPath = Path.Combine(folder, $"{name}-ca.pem");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        return new TestCertificateAuthority(ca, folder, caPath);
    }

    /// <summary>
    /// A certificate for <paramref name="name"/> (valid for <c>localhost</c> and <c>127.0.0.1</c>, server and client
    /// use) signed by this CA, as the <c>Security:Tls</c> options of a node that trusts this CA.
    /// </summary>
    public TlsOptions Issue(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var certificate = request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        var certificatePath = Path.Combine(_folder, $"{name}.pem");
        var keyPath = Path.Combine(_folder, $"{name}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new TlsOptions { Certificate = certificatePath, PrivateKey = keyPath, CaCertificate = CaCertificatePath };
    }
}
