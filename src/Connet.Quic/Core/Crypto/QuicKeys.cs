using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>QUIC v1 key derivation (RFC 9001 §5.1-5.2, §6.1).</summary>
internal static class QuicKeys
{
    private const int IvLength = 12;
    private const int InitialSecretLength = 32;

    // RFC 9001 §5.2: the QUIC v1 initial salt.
    private static ReadOnlySpan<byte> InitialSalt =>
    [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
        0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ];

    /// <summary>Initial secrets from the Destination Connection ID of the client's first Initial packet.</summary>
    public static (byte[] ClientSecret, byte[] ServerSecret) DeriveInitialSecrets(ReadOnlySpan<byte> clientDestinationConnectionId)
    {
        Span<byte> initialSecret = stackalloc byte[InitialSecretLength];
        HKDF.Extract(HashAlgorithmName.SHA256, clientDestinationConnectionId, InitialSalt, initialSecret);
        byte[] client = HkdfLabel.Expand(HashAlgorithmName.SHA256, initialSecret, "client in", [], InitialSecretLength);
        byte[] server = HkdfLabel.Expand(HashAlgorithmName.SHA256, initialSecret, "server in", [], InitialSecretLength);
        CryptographicOperations.ZeroMemory(initialSecret);
        return (client, server);
    }

    /// <summary>The AEAD packet key for a traffic secret ("quic key" and "quic iv").</summary>
    public static IPacketKey CreatePacketKey(CipherSuite suite, ReadOnlySpan<byte> secret)
    {
        HashAlgorithmName hash = suite.HashAlgorithm();
        Span<byte> key = stackalloc byte[suite.KeyLength()];
        Span<byte> iv = stackalloc byte[IvLength];
        try
        {
            HkdfLabel.Expand(hash, secret, "quic key", [], key);
            HkdfLabel.Expand(hash, secret, "quic iv", [], iv);
            return suite switch
            {
                CipherSuite.Aes128GcmSha256 or CipherSuite.Aes256GcmSha384 => AeadPacketKey.ForAesGcm(key, iv),
                CipherSuite.ChaCha20Poly1305Sha256 => AeadPacketKey.ForChaCha20Poly1305(key, iv),
                _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "Not a QUIC v1 cipher suite."),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(iv);
        }
    }

    /// <summary>The header protection key for a traffic secret ("quic hp").</summary>
    public static IHeaderKey CreateHeaderKey(CipherSuite suite, ReadOnlySpan<byte> secret)
    {
        Span<byte> key = stackalloc byte[suite.KeyLength()];
        try
        {
            HkdfLabel.Expand(suite.HashAlgorithm(), secret, "quic hp", [], key);
            return suite switch
            {
                CipherSuite.Aes128GcmSha256 or CipherSuite.Aes256GcmSha384 => new AesHeaderKey(key),
                CipherSuite.ChaCha20Poly1305Sha256 => new ChaCha20HeaderKey(key),
                _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "Not a QUIC v1 cipher suite."),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// The traffic secret of the next key phase ("quic ku", RFC 9001 §6.1). Header protection keys are not updated,
    /// so only a new <see cref="CreatePacketKey"/> follows from it.
    /// </summary>
    public static byte[] NextGenerationSecret(CipherSuite suite, ReadOnlySpan<byte> secret) =>
        HkdfLabel.Expand(suite.HashAlgorithm(), secret, "quic ku", [], suite.HashLength());
}
