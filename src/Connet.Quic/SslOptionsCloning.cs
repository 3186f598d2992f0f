using System.Net;
using System.Net.Security;

namespace Connet.Quic;

/// <summary>
/// Copies of the caller's TLS options with our defaults filled in (TargetHost from a DnsEndPoint, the listener's
/// ALPN list), so the caller's objects are never mutated and can be shared between connections.
/// </summary>
internal static class SslOptionsCloning
{
    public static SslClientAuthenticationOptions ForClient(SslClientAuthenticationOptions options, EndPoint remote) => new()
    {
        AllowRenegotiation = options.AllowRenegotiation,
        AllowTlsResume = options.AllowTlsResume,
        ApplicationProtocols = options.ApplicationProtocols,
        CertificateChainPolicy = options.CertificateChainPolicy,
        CertificateRevocationCheckMode = options.CertificateRevocationCheckMode,
        CipherSuitesPolicy = options.CipherSuitesPolicy,
        ClientCertificateContext = options.ClientCertificateContext,
        ClientCertificates = options.ClientCertificates,
        EnabledSslProtocols = options.EnabledSslProtocols,
        EncryptionPolicy = options.EncryptionPolicy,
        LocalCertificateSelectionCallback = options.LocalCertificateSelectionCallback,
        RemoteCertificateValidationCallback = options.RemoteCertificateValidationCallback,
        TargetHost = string.IsNullOrEmpty(options.TargetHost) && remote is DnsEndPoint dns ? dns.Host : options.TargetHost,
    };

    public static SslServerAuthenticationOptions ForServer(SslServerAuthenticationOptions options, List<SslApplicationProtocol>? defaultProtocols) => new()
    {
        AllowRenegotiation = options.AllowRenegotiation,
        AllowTlsResume = options.AllowTlsResume,
        ApplicationProtocols = options.ApplicationProtocols is { Count: > 0 } ? options.ApplicationProtocols : defaultProtocols,
        CertificateChainPolicy = options.CertificateChainPolicy,
        CertificateRevocationCheckMode = options.CertificateRevocationCheckMode,
        CipherSuitesPolicy = options.CipherSuitesPolicy,
        ClientCertificateRequired = options.ClientCertificateRequired,
        EnabledSslProtocols = options.EnabledSslProtocols,
        EncryptionPolicy = options.EncryptionPolicy,
        RemoteCertificateValidationCallback = options.RemoteCertificateValidationCallback,
        ServerCertificate = options.ServerCertificate,
        ServerCertificateContext = options.ServerCertificateContext,
        ServerCertificateSelectionCallback = options.ServerCertificateSelectionCallback,
    };
}
