using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Endpoint;

/// <summary>
/// The version-independent part of a QUIC packet header (RFC 8999) that the endpoint needs to route a datagram,
/// plus the token of a QUIC v1 Initial. Offsets index into the parsed datagram; nothing is copied.
/// </summary>
internal readonly struct InvariantHeader
{
    public const uint Version1 = 1;
    public const byte LongHeaderBit = 0x80;
    public const byte FixedBit = 0x40;

    /// <summary>Longest connection ID RFC 8999 allows in a long header of an unknown version.</summary>
    public const int MaxInvariantConnectionIdLength = 255;

    public bool IsLongHeader { get; init; }

    /// <summary>Long header only; 0 marks a Version Negotiation packet.</summary>
    public uint Version { get; init; }

    public int DestinationConnectionIdOffset { get; init; }

    public int DestinationConnectionIdLength { get; init; }

    public int SourceConnectionIdOffset { get; init; }

    public int SourceConnectionIdLength { get; init; }

    /// <summary>True for a long-header Initial of QUIC v1, whose token fields are then set.</summary>
    public bool IsVersion1Initial { get; init; }

    public int TokenOffset { get; init; }

    public int TokenLength { get; init; }

    public ReadOnlySpan<byte> DestinationConnectionId(ReadOnlySpan<byte> datagram) =>
        datagram.Slice(DestinationConnectionIdOffset, DestinationConnectionIdLength);

    public ReadOnlySpan<byte> SourceConnectionId(ReadOnlySpan<byte> datagram) =>
        datagram.Slice(SourceConnectionIdOffset, SourceConnectionIdLength);

    public ReadOnlySpan<byte> Token(ReadOnlySpan<byte> datagram) => datagram.Slice(TokenOffset, TokenLength);

    /// <summary>
    /// Parses the invariant header; false when the datagram is too short or inconsistent to be a QUIC packet.
    /// Short headers carry no length, so <paramref name="shortHeaderConnectionIdLength"/> is the length of the IDs we issue.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, int shortHeaderConnectionIdLength, out InvariantHeader header)
    {
        header = default;
        if (datagram.IsEmpty)
        {
            return false;
        }

        byte first = datagram[0];
        if ((first & LongHeaderBit) == 0)
        {
            if (datagram.Length < 1 + shortHeaderConnectionIdLength)
            {
                return false;
            }

            header = new InvariantHeader { DestinationConnectionIdOffset = 1, DestinationConnectionIdLength = shortHeaderConnectionIdLength };
            return true;
        }

        var reader = new SpanReader(datagram);
        reader.TrySkip(1);
        if (!reader.TryReadUInt32(out uint version)
            || !reader.TryReadByte(out byte dcidLength)
            || !reader.TrySkip(dcidLength))
        {
            return false;
        }

        int dcidOffset = 6;
        int scidLengthOffset = reader.Position;
        if (!reader.TryReadByte(out byte scidLength) || !reader.TrySkip(scidLength))
        {
            return false;
        }

        // Version 1 (and VN replies to it) limits connection IDs to 20 bytes (RFC 9000 §17.2).
        if (version is Version1 or 0 && (dcidLength > ConnectionId.MaxLength || scidLength > ConnectionId.MaxLength))
        {
            return false;
        }

        bool isInitial = version == Version1 && (first & 0x30) == 0;
        int tokenOffset = 0;
        int tokenLength = 0;
        if (isInitial)
        {
            if (!reader.TryReadVarInt(out ulong length) || length > (ulong)reader.Remaining)
            {
                return false;
            }

            tokenOffset = reader.Position;
            tokenLength = (int)length;
        }

        header = new InvariantHeader
        {
            IsLongHeader = true,
            Version = version,
            DestinationConnectionIdOffset = dcidOffset,
            DestinationConnectionIdLength = dcidLength,
            SourceConnectionIdOffset = scidLengthOffset + 1,
            SourceConnectionIdLength = scidLength,
            IsVersion1Initial = isInitial,
            TokenOffset = tokenOffset,
            TokenLength = tokenLength,
        };
        return true;
    }
}
