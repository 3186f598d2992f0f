using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>Reading and classifying frame types (RFC 9000 §12.4, §19).</summary>
internal static class FrameTypes
{
    private const ulong StreamRangeFirst = 0x08;
    private const ulong StreamRangeLast = 0x0f;
    private const ulong LastKnownType = (ulong)FrameType.HandshakeDone;

    /// <summary>
    /// Reads a frame type. A type not in its shortest encoding is a PROTOCOL_VIOLATION (§12.4);
    /// an unknown type is a FRAME_ENCODING_ERROR (§12.4, we negotiate no extension frames).
    /// </summary>
    public static FrameType Read(ref SpanReader reader, out ulong rawType)
    {
        ReadOnlySpan<byte> remaining = reader.RemainingSpan;
        if (remaining.IsEmpty || !reader.TryReadVarInt(out rawType))
        {
            throw new QuicProtocolException(TransportErrorCode.FrameEncodingError, "truncated frame type");
        }

        if (VarInt.EncodedLength(rawType) != VarInt.LengthFromFirstByte(remaining[0]))
        {
            throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "frame type not minimally encoded", rawType);
        }

        if (rawType > LastKnownType)
        {
            throw new QuicProtocolException(TransportErrorCode.FrameEncodingError, "unknown frame type", rawType);
        }

        return IsStream(rawType) ? FrameType.Stream : (FrameType)rawType;
    }

    public static bool IsStream(ulong rawType) => rawType is >= StreamRangeFirst and <= StreamRangeLast;

    /// <summary>Whether receiving this frame obliges the receiver to acknowledge (RFC 9002 §2).</summary>
    public static bool IsAckEliciting(FrameType type) => type is not (FrameType.Ack or FrameType.AckEcn
        or FrameType.Padding or FrameType.ConnectionCloseTransport or FrameType.ConnectionCloseApplication);

    /// <summary>
    /// Probing frames (§9.1): a packet holding only these does not make the peer migrate to the path it came on.
    /// </summary>
    public static bool IsProbing(FrameType type) => type is FrameType.PathChallenge or FrameType.PathResponse
        or FrameType.NewConnectionId or FrameType.Padding;

    /// <summary>
    /// Frames only a server may send (§19.7, §19.20); a server receiving them must close with PROTOCOL_VIOLATION.
    /// </summary>
    public static bool IsSentOnlyByServer(FrameType type) => type is FrameType.NewToken or FrameType.HandshakeDone;

    /// <summary>
    /// Whether the frame may appear in a packet at <paramref name="level"/> (§12.4 Table 3). Anything else there is
    /// a PROTOCOL_VIOLATION. Initial and Handshake carry only PADDING, PING, ACK, CRYPTO and the transport
    /// CONNECTION_CLOSE, because the application has not been authenticated yet.
    /// </summary>
    public static bool IsAllowedAt(FrameType type, EncryptionLevel level) => level switch
    {
        EncryptionLevel.Initial or EncryptionLevel.Handshake => type is FrameType.Padding or FrameType.Ping
            or FrameType.Ack or FrameType.AckEcn or FrameType.Crypto or FrameType.ConnectionCloseTransport,
        _ => true,
    };
}
