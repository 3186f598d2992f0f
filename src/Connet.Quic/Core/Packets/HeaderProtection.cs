using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Packets;

/// <summary>Applies and removes header protection (RFC 9001 §5.4) on one packet's bytes.</summary>
internal static class HeaderProtection
{
    private const byte LongHeaderBit = 0x80;

    // Long headers protect the reserved bits and packet number length; short headers also the key phase.
    private const byte LongHeaderProtectedBits = 0x0F;
    private const byte ShortHeaderProtectedBits = 0x1F;

    /// <summary>
    /// Unmasks the first byte and the packet number in place. <paramref name="packet"/> must hold at least
    /// <paramref name="packetNumberOffset"/> + 20 bytes, which <see cref="PacketParser.TryParse"/> guarantees.
    /// </summary>
    public static void Remove(Span<byte> packet, int packetNumberOffset, IHeaderKey key, out int packetNumberLength, out uint truncatedPacketNumber)
    {
        Span<byte> mask = stackalloc byte[HeaderProtectionMask.Length];
        key.CreateMask(Sample(packet, packetNumberOffset), mask);

        packet[0] ^= (byte)(mask[0] & ProtectedBits(packet[0]));
        packetNumberLength = (packet[0] & 0x03) + 1;

        Span<byte> packetNumber = packet.Slice(packetNumberOffset, packetNumberLength);
        truncatedPacketNumber = 0;
        for (int i = 0; i < packetNumberLength; i++)
        {
            packetNumber[i] ^= mask[1 + i];
            truncatedPacketNumber = (truncatedPacketNumber << 8) | packetNumber[i];
        }
    }

    /// <summary>Masks the first byte and the packet number in place; the payload must already be encrypted.</summary>
    public static void Apply(Span<byte> packet, int packetNumberOffset, int packetNumberLength, IHeaderKey key)
    {
        if (packetNumberLength is < 1 or > PacketNumberCoding.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(packetNumberLength));
        }

        Span<byte> mask = stackalloc byte[HeaderProtectionMask.Length];
        key.CreateMask(Sample(packet, packetNumberOffset), mask);

        packet[0] ^= (byte)(mask[0] & ProtectedBits(packet[0]));
        Span<byte> packetNumber = packet.Slice(packetNumberOffset, packetNumberLength);
        for (int i = 0; i < packetNumberLength; i++)
        {
            packetNumber[i] ^= mask[1 + i];
        }
    }

    private static byte ProtectedBits(byte firstByte) =>
        (firstByte & LongHeaderBit) != 0 ? LongHeaderProtectedBits : ShortHeaderProtectedBits;

    private static ReadOnlySpan<byte> Sample(ReadOnlySpan<byte> packet, int packetNumberOffset)
    {
        int sampleOffset = packetNumberOffset + PacketNumberCoding.MaxLength;
        if (packetNumberOffset < 0 || packet.Length < sampleOffset + HeaderProtectionMask.SampleLength)
        {
            throw new ArgumentException("The packet is too short to sample for header protection.", nameof(packet));
        }

        return packet.Slice(sampleOffset, HeaderProtectionMask.SampleLength);
    }
}
