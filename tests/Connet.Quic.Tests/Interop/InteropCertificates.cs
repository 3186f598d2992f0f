using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Interop;

/// <summary>
/// A throw-away ECDSA P-256 test CA and a leaf for "localhost"/127.0.0.1 signed by it, as PEM files
/// in a temp directory (for the node peers) and as <see cref="X509Certificate2"/> (for our stack).
/// quiche/BoringSSL rejects a bare self-signed leaf used as its own CA, hence the two-level chain.
/// The leaf carries both serverAuth and clientAuth so one identity serves either side or mutual TLS.
/// </summary>
internal sealed class InteropCertificates : IDisposable
{
    public const string LeafDnsName = "localhost";

    private readonly DirectoryInfo directory;

    private InteropCertificates(DirectoryInfo directory, X509Certificate2 authority, X509Certificate2 leaf)
    {
        this.directory = directory;
        Authority = authority;
        Leaf = leaf;
    }

    /// <summary>The CA certificate (public part only; nothing else gets signed after creation).</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The leaf, with its private key.</summary>
    public X509Certificate2 Leaf { get; }

    public string DirectoryPath => directory.FullName;

    public string AuthorityPemPath => Path.Combine(directory.FullName, "ca.pem");

    public string LeafCertificatePemPath => Path.Combine(directory.FullName, "cert.pem");

    /// <summary>The leaf's private key as unencrypted PKCS#8 PEM.</summary>
    public string LeafKeyPemPath => Path.Combine(directory.FullName, "key.pem");

    public static InteropCertificates Create()
    {
        var notBefore = DateTimeOffset.UtcNow.AddHours(-1);
        var notAfter = DateTimeOffset.UtcNow.AddDays(2);

        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest("CN=Connet Interop Test CA", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        authorityRequest.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        using var authorityWithKey = authorityRequest.CreateSelfSigned(notBefore, notAfter);

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest($"CN={LeafDnsName}", leafKey, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "serverAuth"), new Oid("1.3.6.1.5.5.7.3.2", "clientAuth")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(LeafDnsName);
        names.AddIpAddress(IPAddress.Loopback);
        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(leafRequest.PublicKey, false));
        leafRequest.CertificateExtensions.Add(
            X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authorityWithKey, true, false));

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f; // a positive INTEGER without a leading zero byte
        using var leafPublic = leafRequest.Create(authorityWithKey, notBefore, notAfter, serial);
        var leaf = leafPublic.CopyWithPrivateKey(leafKey);
        var authority = X509CertificateLoader.LoadCertificate(authorityWithKey.RawData);

        var directory = Directory.CreateTempSubdirectory("connet-interop-");
        var certificates = new InteropCertificates(directory, authority, leaf);
        try
        {
            File.WriteAllText(certificates.AuthorityPemPath, authority.ExportCertificatePem());
            File.WriteAllText(certificates.LeafCertificatePemPath, leaf.ExportCertificatePem());
            File.WriteAllText(certificates.LeafKeyPemPath, leafKey.ExportPkcs8PrivateKeyPem());
        }
        catch
        {
            certificates.Dispose();
            throw;
        }

        return certificates;
    }

    public void Dispose()
    {
        Leaf.Dispose();
        Authority.Dispose();
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A peer still holding a file open must not turn a passing test into a failure.
        }
    }
}
