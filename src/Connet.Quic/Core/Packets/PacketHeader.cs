namespace Connet.Quic.Core.Packets;

/// <summary>
/// A parsed, still header-protected packet at the start of a datagram slice. Offsets are relative to that slice.
/// For versions other than v1 (and Version Negotiation) only <see cref="Version"/> and the connection IDs are meaningful.
/// </summary>
internal readonly struct PacketHeader
{
    public PacketHeader(
        PacketType type,
        uint version,
        bool isLongHeader,
        int destinationConnectionIdOffset,
        int destinationConnectionIdLength,
        int sourceConnectionIdOffset,
        int sourceConnectionIdLength,
        int tokenOffset,
        int tokenLength,
        int packetNumberOffset,
        int packetLength)
    {
        Type = type;
        Version = version;
        IsLongHeader = isLongHeader;
        DestinationConnectionIdOffset = destinationConnectionIdOffset;
        DestinationConnectionIdLength = destinationConnectionIdLength;
        SourceConnectionIdOffset = sourceConnectionIdOffset;
        SourceConnectionIdLength = sourceConnectionIdLength;
        TokenOffset = tokenOffset;
        TokenLength = tokenLength;
        PacketNumberOffset = packetNumberOffset;
        PacketLength = packetLength;
    }

    /// <summary>The v1 packet type; for an unsupported version it is what the v1 type bits would mean, so check <see cref="IsVersionSupported"/> first.</summary>
    public PacketType Type { get; }

    /// <summary>The version field; <see cref="QuicVersion.Version1"/> for short headers.</summary>
    public uint Version { get; }

    public bool IsLongHeader { get; }

    public bool IsVersionSupported => QuicVersion.IsSupported(Version);

    public int DestinationConnectionIdOffset { get; }

    public int DestinationConnectionIdLength { get; }

    /// <summary>Long headers only; 0 length otherwise.</summary>
    public int SourceConnectionIdOffset { get; }

    public int SourceConnectionIdLength { get; }

    /// <summary>Initial: the token field. Retry: the Retry token (everything between the SCID and the 16-byte tag).</summary>
    public int TokenOffset { get; }

    public int TokenLength { get; }

    /// <summary>Where the protected packet number starts; -1 for Retry, Version Negotiation and unsupported versions.</summary>
    public int PacketNumberOffset { get; }

    /// <summary>
    /// Bytes of this packet in the slice. Initial/0-RTT/Handshake: up to where the Length field ends the packet, so a
    /// coalesced packet may follow. 1-RTT, Retry, Version Negotiation and unsupported versions: the rest of the slice.
    /// </summary>
    public int PacketLength { get; }

    /// <summary>True for packets carrying packet protection: Initial, 0-RTT, Handshake and 1-RTT of a supported version.</summary>
    public bool HasPacketNumber => PacketNumberOffset >= 0;

    /// <summary>Where the payload starts once header protection removal revealed the packet number length.</summary>
    public int PayloadOffset(int packetNumberLength) => PacketNumberOffset + packetNumberLength;

    public ReadOnlySpan<byte> DestinationConnectionId(ReadOnlySpan<byte> slice) =>
        slice.Slice(DestinationConnectionIdOffset, DestinationConnectionIdLength);

    public ReadOnlySpan<byte> SourceConnectionId(ReadOnlySpan<byte> slice) =>
        slice.Slice(SourceConnectionIdOffset, SourceConnectionIdLength);

    public ReadOnlySpan<byte> Token(ReadOnlySpan<byte> slice) => slice.Slice(TokenOffset, TokenLength);

    /// <summary>This packet's bytes; what header protection removal and decryption operate on.</summary>
    public Span<byte> Packet(Span<byte> slice) => slice[..PacketLength];

    public ReadOnlySpan<byte> Packet(ReadOnlySpan<byte> slice) => slice[..PacketLength];
}
