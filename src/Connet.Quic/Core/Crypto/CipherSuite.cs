using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>The TLS 1.3 cipher suites QUIC v1 may use (RFC 9001 §5.3); values are their TLS code points.</summary>
internal enum CipherSuite : ushort
{
    Aes128GcmSha256 = 0x1301,
    Aes256GcmSha384 = 0x1302,
    ChaCha20Poly1305Sha256 = 0x1303,
}

internal static class CipherSuiteExtensions
{
    public static HashAlgorithmName HashAlgorithm(this CipherSuite suite) =>
        suite == CipherSuite.Aes256GcmSha384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;

    public static int HashLength(this CipherSuite suite) => suite == CipherSuite.Aes256GcmSha384 ? 48 : 32;

    public static int KeyLength(this CipherSuite suite) => suite == CipherSuite.Aes128GcmSha256 ? 16 : 32;
}
