using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Connet.Quic.Core.Endpoint;

/// <summary>Writes and checks QUIC v1 Retry packets (RFC 9000 §17.2.5) and their integrity tag (RFC 9001 §5.8).</summary>
internal static class RetryPacket
{
    public const int IntegrityTagLength = 16;

    private static ReadOnlySpan<byte> IntegrityKey => [0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e];

    private static ReadOnlySpan<byte> IntegrityNonce => [0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb];

    public static int Length(int destinationIdLength, int sourceIdLength, int tokenLength) =>
        1 + 4 + 1 + destinationIdLength + 1 + sourceIdLength + tokenLength + IntegrityTagLength;

    /// <summary>
    /// Writes a Retry to a client whose Initial carried <paramref name="originalDestinationId"/>; the tag binds that ID so
    /// only an on-path server could have produced the Retry.
    /// </summary>
    public static int Write(
        Span<byte> destination,
        ReadOnlySpan<byte> clientSourceId,
        ReadOnlySpan<byte> retrySourceId,
        ReadOnlySpan<byte> token,
        ReadOnlySpan<byte> originalDestinationId,
        byte randomBits)
    {
        int length = Length(clientSourceId.Length, retrySourceId.Length, token.Length);
        if (destination.Length < length || clientSourceId.Length > ConnectionId.MaxLength || retrySourceId.Length > ConnectionId.MaxLength)
        {
            throw new ArgumentException("Destination too small for a Retry packet.", nameof(destination));
        }

        destination[0] = (byte)(0xF0 | (randomBits & 0x0F));
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], InvariantHeader.Version1);
        int position = 5;
        destination[position++] = (byte)clientSourceId.Length;
        clientSourceId.CopyTo(destination[position..]);
        position += clientSourceId.Length;
        destination[position++] = (byte)retrySourceId.Length;
        retrySourceId.CopyTo(destination[position..]);
        position += retrySourceId.Length;
        token.CopyTo(destination[position..]);
        position += token.Length;
        ComputeTag(originalDestinationId, destination[..position], destination.Slice(position, IntegrityTagLength));
        return position + IntegrityTagLength;
    }

    /// <summary>Checks the integrity tag of a received Retry (the whole packet, tag last).</summary>
    public static bool HasValidTag(ReadOnlySpan<byte> retryPacket, ReadOnlySpan<byte> originalDestinationId)
    {
        if (retryPacket.Length < IntegrityTagLength + 7)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[IntegrityTagLength];
        ComputeTag(originalDestinationId, retryPacket[..^IntegrityTagLength], expected);
        return CryptographicOperations.FixedTimeEquals(expected, retryPacket[^IntegrityTagLength..]);
    }

    private static void ComputeTag(ReadOnlySpan<byte> originalDestinationId, ReadOnlySpan<byte> packetWithoutTag, Span<byte> tag)
    {
        // Retry Pseudo-Packet = ODCID length, ODCID, then the Retry packet without its tag.
        int pseudoLength = 1 + originalDestinationId.Length + packetWithoutTag.Length;
        byte[] pseudo = new byte[pseudoLength];
        pseudo[0] = (byte)originalDestinationId.Length;
        originalDestinationId.CopyTo(pseudo.AsSpan(1));
        packetWithoutTag.CopyTo(pseudo.AsSpan(1 + originalDestinationId.Length));
        using var aead = new AesGcm(IntegrityKey, IntegrityTagLength);
        aead.Encrypt(IntegrityNonce, [], [], tag, pseudo);
    }
}
