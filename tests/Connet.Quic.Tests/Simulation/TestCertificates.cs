using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Simulation;

/// <summary>Self-signed certificates made once per test run (ECDSA keys are cheap, but not free).</summary>
internal static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> LazyServer = new(() => CreateSelfSigned("localhost"));
    private static readonly Lazy<X509Certificate2> LazyClient = new(() => CreateSelfSigned("client"));
    private static readonly Lazy<X509Certificate2> LazyOther = new(() => CreateSelfSigned("localhost"));

    public static X509Certificate2 Server => LazyServer.Value;

    public static X509Certificate2 Client => LazyClient.Value;

    /// <summary>Same subject as <see cref="Server"/>, different key: what an impostor would present.</summary>
    public static X509Certificate2 Impostor => LazyOther.Value;

    public static X509Certificate2 CreateSelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A validation callback that accepts exactly <paramref name="pinned"/>, as Connet pins peers.</summary>
    public static RemoteCertificateValidationCallback Pin(X509Certificate2 pinned) =>
        (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned.RawData);
}
