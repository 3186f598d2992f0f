using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Host.Hosting;

/// <summary>Certificates the host makes for itself: server mode's loopback relay link and the demo's control server.</summary>
internal static class SelfSignedCertificates
{
    /// <summary>An ECDSA P-256 certificate for <c>localhost</c> and 127.0.0.1, valid from yesterday for a year.</summary>
    public static X509Certificate2 CreateLocalhost()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        // Through PKCS#12 so the private key is usable for TLS on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
