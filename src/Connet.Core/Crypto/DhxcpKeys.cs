using System.Security.Cryptography;

namespace Connet.Core.Crypto;

/// <summary>Which end of a relayed dhxcp stream we are. The source dials (Go's "initiator"); the destination accepts.</summary>
public enum DhxcpRole
{
    Source,
    Destination,
}

/// <summary>
/// The two ChaCha20-Poly1305 keys of one dhxcp stream, from our point of view.
/// </summary>
/// <param name="WriteKey">Key for records we send.</param>
/// <param name="ReadKey">Key for records we receive.</param>
public sealed record DhxcpKeys(ReadOnlyMemory<byte> WriteKey, ReadOnlyMemory<byte> ReadKey)
{
    public const int KeyLength = 32;

    private static readonly byte[] InitialChainingKey = PadToHashSize("connet-chaining"u8);
    private static readonly byte[] InitialHashingKey = PadToHashSize("connet-hashing"u8);

    /// <summary>
    /// Derives our keys from our ephemeral key pair and the peer's (already verified) X25519 public key.
    /// The source writes with okm[0:32] and reads with okm[32:64]; the destination the reverse.
    /// </summary>
    public static DhxcpKeys Derive(DhxcpKeyPair self, ReadOnlySpan<byte> peerPublicKey, DhxcpRole role)
    {
        ArgumentNullException.ThrowIfNull(self);
        var sharedSecret = self.AgreeWith(peerPublicKey);
        try
        {
            var (sourceWrite, sourceRead) = role == DhxcpRole.Source
                ? DeriveDirectional(sharedSecret, self.PublicKey.Span, peerPublicKey)
                : DeriveDirectional(sharedSecret, peerPublicKey, self.PublicKey.Span);
            return role == DhxcpRole.Source
                ? new DhxcpKeys(sourceWrite, sourceRead)
                : new DhxcpKeys(sourceRead, sourceWrite);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    /// <summary>
    /// The KDF of connet-protocol.md §2.6 (pkg/cryptoc/derive.go), with H = BLAKE2s-256 keyed with "connet-hash":
    /// hk = H(H(hk0 ‖ srcPub) ‖ dstPub); ck = HKDF-H(ikm = shared secret, salt = ck0, 32);
    /// okm = HKDF-H(ikm = hk, salt = ck, 64). Returns (okm[0:32], okm[32:64]) = (source write, source read).
    /// </summary>
    internal static (byte[] SourceWrite, byte[] SourceRead) DeriveDirectional(
        ReadOnlySpan<byte> sharedSecret,
        ReadOnlySpan<byte> sourcePublicKey,
        ReadOnlySpan<byte> destinationPublicKey)
    {
        var handshakeHash = ConnetHash.Mix(ConnetHash.Mix(InitialHashingKey, sourcePublicKey), destinationPublicKey);
        var chainingKey = ConnetHash.Hkdf(sharedSecret, InitialChainingKey, ConnetHash.Size);
        var outputKeyMaterial = ConnetHash.Hkdf(handshakeHash, chainingKey, 2 * KeyLength);
        var sourceWrite = outputKeyMaterial[..KeyLength];
        var sourceRead = outputKeyMaterial[KeyLength..];
        CryptographicOperations.ZeroMemory(chainingKey);
        CryptographicOperations.ZeroMemory(outputKeyMaterial);
        return (sourceWrite, sourceRead);
    }

    private static byte[] PadToHashSize(ReadOnlySpan<byte> label)
    {
        var padded = new byte[ConnetHash.Size];
        label.CopyTo(padded);
        return padded;
    }
}
