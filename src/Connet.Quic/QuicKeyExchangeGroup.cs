namespace Connet.Quic;

/// <summary>TLS 1.3 key exchange groups a connection may offer or accept.</summary>
public enum QuicKeyExchangeGroup
{
    /// <summary>Curve25519 ECDH (RFC 7748).</summary>
    X25519,

    /// <summary>NIST P-256 ECDH.</summary>
    Secp256r1,

    /// <summary>NIST P-384 ECDH.</summary>
    Secp384r1,
}
