using System.Buffers;
using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>The Retry Integrity Tag of RFC 9001 §5.8 (QUIC v1 key and nonce).</summary>
internal static class RetryIntegrity
{
    public const int TagLength = 16;

    private const int StackPseudoPacketLimit = 512;

    private static ReadOnlySpan<byte> Key =>
        [0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e];

    private static ReadOnlySpan<byte> Nonce =>
        [0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb];

    // AesGcm instances are not safe to share across threads; Retry packets are rare enough for one per thread.
    [ThreadStatic]
    private static AesGcm? s_aead;

    /// <summary>Computes the tag over the Retry pseudo-packet: ODCID length, ODCID, then the Retry packet up to the tag.</summary>
    public static void ComputeTag(ReadOnlySpan<byte> originalDestinationConnectionId, ReadOnlySpan<byte> retryPacketWithoutTag, Span<byte> tag)
    {
        if (originalDestinationConnectionId.Length > byte.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(originalDestinationConnectionId));
        }

        int pseudoLength = 1 + originalDestinationConnectionId.Length + retryPacketWithoutTag.Length;
        byte[]? rented = null;
        Span<byte> pseudo = pseudoLength <= StackPseudoPacketLimit
            ? stackalloc byte[StackPseudoPacketLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(pseudoLength));
        pseudo = pseudo[..pseudoLength];
        pseudo[0] = (byte)originalDestinationConnectionId.Length;
        originalDestinationConnectionId.CopyTo(pseudo[1..]);
        retryPacketWithoutTag.CopyTo(pseudo[(1 + originalDestinationConnectionId.Length)..]);

        s_aead ??= new AesGcm(Key, TagLength);
        s_aead.Encrypt(Nonce, [], [], tag[..TagLength], pseudo);

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>True when the last 16 bytes of <paramref name="retryPacket"/> are its valid integrity tag.</summary>
    public static bool Verify(ReadOnlySpan<byte> originalDestinationConnectionId, ReadOnlySpan<byte> retryPacket)
    {
        if (retryPacket.Length < TagLength || originalDestinationConnectionId.Length > byte.MaxValue)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[TagLength];
        int tagOffset = retryPacket.Length - TagLength;
        ComputeTag(originalDestinationConnectionId, retryPacket[..tagOffset], expected);
        return CryptographicOperations.FixedTimeEquals(expected, retryPacket[tagOffset..]);
    }
}
