namespace Connet.Quic.Core.Tls;

/// <summary>TLS 1.3 SignatureScheme code points this handshake signs or verifies with (RFC 8446 §4.2.3).</summary>
internal enum TlsSignatureScheme : ushort
{
    EcdsaSecp256r1Sha256 = 0x0403,
    EcdsaSecp384r1Sha384 = 0x0503,
    EcdsaSecp521r1Sha512 = 0x0603,
    RsaPssRsaeSha256 = 0x0804,
    RsaPssRsaeSha384 = 0x0805,
    RsaPssRsaeSha512 = 0x0806,
    Ed25519 = 0x0807,
}
