using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// The TLS 1.3 handshake as QUIC drives it (RFC 9001 §4): handshake bytes travel in CRYPTO frames per encryption
/// level, and the session hands secrets to the connection instead of protecting records itself. Sans-IO.
/// Protocol failures throw <see cref="QuicProtocolException"/> (a TLS alert as CRYPTO_ERROR 0x100+alert).
/// </summary>
internal interface ITlsSession : IDisposable
{
    bool IsClient { get; }

    /// <summary>Client: produces the ClientHello (Initial level). Server: no-op.</summary>
    void Start();

    /// <summary>Feeds in-order CRYPTO stream bytes received at <paramref name="level"/>. May be partial messages.</summary>
    void HandleCryptoData(EncryptionLevel level, ReadOnlySpan<byte> data);

    /// <summary>Takes handshake bytes the session wants sent, one level at a time, in the order they must be sent.</summary>
    bool TryTakeOutgoing(out EncryptionLevel level, out byte[] data);

    /// <summary>Takes newly derived traffic secrets (Handshake, then OneRtt), in order.</summary>
    bool TryTakeSecrets(out TlsSecrets secrets);

    /// <summary>Client: Finished sent. Server: client's Finished verified.</summary>
    bool IsHandshakeComplete { get; }

    /// <summary>The peer's quic_transport_parameters extension body, once received (else empty).</summary>
    ReadOnlyMemory<byte> PeerTransportParameters { get; }

    /// <summary>Negotiated ALPN protocol; set before handshake completion.</summary>
    ReadOnlyMemory<byte> NegotiatedApplicationProtocol { get; }

    /// <summary>The peer's leaf certificate, once verified (null for a server that did not request one).</summary>
    X509Certificate2? PeerCertificate { get; }

    /// <summary>Server: the SNI host name the client sent. Client: the name it sent.</summary>
    string? ServerName { get; }

    CipherSuite? NegotiatedCipherSuite { get; }
}

/// <summary>Traffic secrets for one encryption level, as derived by the TLS key schedule.</summary>
internal sealed record TlsSecrets(EncryptionLevel Level, CipherSuite CipherSuite, byte[] ClientSecret, byte[] ServerSecret);
