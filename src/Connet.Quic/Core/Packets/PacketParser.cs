using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Packets;

/// <summary>Parses the unprotected parts of a packet header (RFC 9000 §17, invariants of RFC 8999).</summary>
internal static class PacketParser
{
    private const byte LongHeaderBit = 0x80;
    private const byte FixedBit = 0x40;

    // Under the invariants (RFC 8999 §5.1) a connection ID of an unknown version may be up to 255 bytes.
    private const int InvariantMaxConnectionIdLength = 255;

    // The packet number is taken as 4 bytes long for sampling (RFC 9001 §5.4.2), so a protected packet needs at
    // least this many bytes after the packet number starts.
    private const int MinBytesFromPacketNumber = PacketNumberCoding.MaxLength + HeaderProtectionMask.SampleLength;

    /// <summary>
    /// Parses the header of the packet at the start of <paramref name="datagram"/>. False means drop: truncated,
    /// malformed, too short to sample, or a v1 packet with the fixed bit cleared.
    /// </summary>
    /// <param name="shortHeaderConnectionIdLength">Length of the connection IDs this endpoint issues (0-20).</param>
    public static bool TryParse(ReadOnlySpan<byte> datagram, int shortHeaderConnectionIdLength, out PacketHeader header)
    {
        if ((uint)shortHeaderConnectionIdLength > ConnectionId.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(shortHeaderConnectionIdLength));
        }

        header = default;
        if (datagram.IsEmpty)
        {
            return false;
        }

        return (datagram[0] & LongHeaderBit) != 0
            ? TryParseLong(datagram, out header)
            : TryParseShort(datagram, shortHeaderConnectionIdLength, out header);
    }

    private static bool TryParseShort(ReadOnlySpan<byte> datagram, int connectionIdLength, out PacketHeader header)
    {
        header = default;
        if ((datagram[0] & FixedBit) == 0)
        {
            return false;
        }

        int packetNumberOffset = 1 + connectionIdLength;
        if (datagram.Length < packetNumberOffset + MinBytesFromPacketNumber)
        {
            return false;
        }

        header = new PacketHeader(
            PacketType.OneRtt,
            QuicVersion.Version1,
            isLongHeader: false,
            destinationConnectionIdOffset: 1,
            destinationConnectionIdLength: connectionIdLength,
            sourceConnectionIdOffset: 0,
            sourceConnectionIdLength: 0,
            tokenOffset: 0,
            tokenLength: 0,
            packetNumberOffset,
            datagram.Length);
        return true;
    }

    private static bool TryParseLong(ReadOnlySpan<byte> datagram, out PacketHeader header)
    {
        header = default;
        var reader = new SpanReader(datagram);
        if (!reader.TryReadByte(out byte firstByte) || !reader.TryReadUInt32(out uint version))
        {
            return false;
        }

        bool isV1 = QuicVersion.IsSupported(version);
        int maxConnectionIdLength = isV1 ? ConnectionId.MaxLength : InvariantMaxConnectionIdLength;
        if (!TryReadConnectionId(ref reader, maxConnectionIdLength, out int dcidOffset, out int dcidLength)
            || !TryReadConnectionId(ref reader, maxConnectionIdLength, out int scidOffset, out int scidLength))
        {
            return false;
        }

        if (!isV1)
        {
            PacketType invariantType = version == QuicVersion.Negotiation ? PacketType.VersionNegotiation : LongType(firstByte);
            header = new PacketHeader(invariantType, version, true, dcidOffset, dcidLength, scidOffset, scidLength, 0, 0, -1, datagram.Length);
            return true;
        }

        if ((firstByte & FixedBit) == 0)
        {
            return false;
        }

        PacketType type = LongType(firstByte);
        int tokenOffset = 0;
        int tokenLength = 0;
        if (type == PacketType.Retry)
        {
            tokenOffset = reader.Position;
            tokenLength = reader.Remaining - RetryIntegrity.TagLength;
            if (tokenLength < 0)
            {
                return false;
            }

            header = new PacketHeader(type, version, true, dcidOffset, dcidLength, scidOffset, scidLength, tokenOffset, tokenLength, -1, datagram.Length);
            return true;
        }

        if (type == PacketType.Initial)
        {
            if (!reader.TryReadVarInt(out ulong declaredTokenLength) || declaredTokenLength > (ulong)reader.Remaining)
            {
                return false;
            }

            tokenOffset = reader.Position;
            tokenLength = (int)declaredTokenLength;
            reader.TrySkip(tokenLength);
        }

        if (!reader.TryReadVarInt(out ulong length) || length > (ulong)reader.Remaining || length < MinBytesFromPacketNumber)
        {
            return false;
        }

        int packetNumberOffset = reader.Position;
        header = new PacketHeader(
            type, version, true, dcidOffset, dcidLength, scidOffset, scidLength, tokenOffset, tokenLength, packetNumberOffset, packetNumberOffset + (int)length);
        return true;
    }

    private static bool TryReadConnectionId(ref SpanReader reader, int maxLength, out int offset, out int length)
    {
        offset = 0;
        length = 0;
        if (!reader.TryReadByte(out byte declared) || declared > maxLength)
        {
            return false;
        }

        offset = reader.Position;
        length = declared;
        return reader.TrySkip(declared);
    }

    private static PacketType LongType(byte firstByte) => ((firstByte >> 4) & 0x3) switch
    {
        0 => PacketType.Initial,
        1 => PacketType.ZeroRtt,
        2 => PacketType.Handshake,
        _ => PacketType.Retry,
    };
}
