using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Tls;

/// <summary>Self-signed certificates with private keys, made once per test run (RSA key generation is slow).</summary>
internal static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> s_serverP256 = new(() => CreateEcdsa("server-p256", "server.example", ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256));
    private static readonly Lazy<X509Certificate2> s_serverP384 = new(() => CreateEcdsa("server-p384", "server.example", ECCurve.NamedCurves.nistP384, HashAlgorithmName.SHA384));
    private static readonly Lazy<X509Certificate2> s_serverRsa = new(() => CreateRsa("server-rsa", "server.example"));
    private static readonly Lazy<X509Certificate2> s_client = new(() => CreateEcdsa("client", "client.example", ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256));
    private static readonly Lazy<X509Certificate2> s_other = new(() => CreateEcdsa("server-p256", "server.example", ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256));

    public static X509Certificate2 ServerP256 => s_serverP256.Value;

    public static X509Certificate2 ServerP384 => s_serverP384.Value;

    public static X509Certificate2 ServerRsa => s_serverRsa.Value;

    public static X509Certificate2 Client => s_client.Value;

    /// <summary>Same subject and SAN as <see cref="ServerP256"/> but a different key: a pin for it must not accept the real one.</summary>
    public static X509Certificate2 Impostor => s_other.Value;

    /// <summary>Connet-style pinning: trust exactly these self-signed certificates and nothing else.</summary>
    public static X509ChainPolicy Pin(params X509Certificate2[] certificates)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        foreach (X509Certificate2 certificate in certificates)
        {
            policy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(certificate.RawData));
        }

        return policy;
    }

    // Distinct subjects matter: chain building looks issuers up by subject name, so two pinned self-signed
    // certificates with one subject would shadow each other.
    private static X509Certificate2 CreateEcdsa(string subject, string dnsName, ECCurve curve, HashAlgorithmName hash)
    {
        var key = ECDsa.Create(curve);
        var request = new CertificateRequest($"CN={subject}", key, hash);
        return Finish(request, dnsName);
    }

    private static X509Certificate2 CreateRsa(string subject, string dnsName)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return Finish(request, dnsName);
    }

    private static X509Certificate2 Finish(CertificateRequest request, string name)
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }
}
