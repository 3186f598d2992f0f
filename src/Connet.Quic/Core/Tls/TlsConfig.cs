using System.Net.Security;

namespace Connet.Quic.Core.Tls;

/// <summary>Key exchange groups (TLS NamedGroup code points) the handshake supports.</summary>
internal enum TlsNamedGroup : ushort
{
    Secp256r1 = 0x0017,
    Secp384r1 = 0x0018,
    X25519 = 0x001d,
}

/// <summary>
/// Client handshake settings. Certificate policy comes from the BCL's <see cref="SslClientAuthenticationOptions"/>
/// (TargetHost, ApplicationProtocols, ClientCertificates / ClientCertificateContext / LocalCertificateSelectionCallback,
/// CertificateChainPolicy, RemoteCertificateValidationCallback) so callers configure QUIC exactly like SslStream.
/// </summary>
internal sealed class TlsClientConfig
{
    public required SslClientAuthenticationOptions Authentication { get; init; }

    /// <summary>Groups offered, most preferred first; a key share is sent for the first only (HelloRetryRequest covers the rest).</summary>
    public IReadOnlyList<TlsNamedGroup> Groups { get; init; } = [TlsNamedGroup.X25519, TlsNamedGroup.Secp256r1, TlsNamedGroup.Secp384r1];

    /// <summary>Cipher suites offered, most preferred first.</summary>
    public IReadOnlyList<Crypto.CipherSuite> CipherSuites { get; init; } =
        [Crypto.CipherSuite.Aes128GcmSha256, Crypto.CipherSuite.Aes256GcmSha384, Crypto.CipherSuite.ChaCha20Poly1305Sha256];

    /// <summary>Passed as <c>sender</c> to the validation and selection callbacks (the public QuicConnection).</summary>
    public object? CallbackSender { get; set; }
}

/// <summary>Server handshake settings; see <see cref="TlsClientConfig"/>.</summary>
internal sealed class TlsServerConfig
{
    public required SslServerAuthenticationOptions Authentication { get; init; }

    /// <summary>Groups accepted, most preferred first; a client share in another supported group triggers HelloRetryRequest.</summary>
    public IReadOnlyList<TlsNamedGroup> Groups { get; init; } = [TlsNamedGroup.X25519, TlsNamedGroup.Secp256r1, TlsNamedGroup.Secp384r1];

    public IReadOnlyList<Crypto.CipherSuite> CipherSuites { get; init; } =
        [Crypto.CipherSuite.Aes128GcmSha256, Crypto.CipherSuite.Aes256GcmSha384, Crypto.CipherSuite.ChaCha20Poly1305Sha256];

    public object? CallbackSender { get; set; }
}
