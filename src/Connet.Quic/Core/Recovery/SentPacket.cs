namespace Connet.Quic.Core.Recovery;

/// <summary>
/// What a sent packet carried that must be retransmitted or released when it is lost or acknowledged.
/// Data frames are recorded by range, never by copy: the data stays in the send buffers until acknowledged.
/// </summary>
internal enum SentFrameKind : byte
{
    /// <summary>Stream data: StreamId, Offset, Length, Fin.</summary>
    Stream,

    /// <summary>CRYPTO data at the packet's level: Offset, Length.</summary>
    Crypto,

    /// <summary>An ACK frame; Value = its largest acknowledged packet number (lets the receiver prune ranges).</summary>
    Ack,

    /// <summary>
    /// A flow-control or stream-state frame of the stream manager (RESET_STREAM, STOP_SENDING, MAX_*, *_BLOCKED):
    /// Length holds its ControlFrameKind, StreamId/Value/Offset its stream, value and final size.
    /// </summary>
    StreamControl,

    /// <summary>HANDSHAKE_DONE.</summary>
    HandshakeDone,

    /// <summary>NEW_CONNECTION_ID; Value = sequence number.</summary>
    NewConnectionId,

    /// <summary>RETIRE_CONNECTION_ID; Value = sequence number.</summary>
    RetireConnectionId,

    /// <summary>PING or PATH_CHALLENGE/PATH_RESPONSE: never retransmitted as such.</summary>
    Ping,

    /// <summary>NEW_TOKEN (the server resends the current token).</summary>
    NewToken,
}

internal readonly record struct SentFrame(SentFrameKind Kind, ulong StreamId = 0, ulong Offset = 0, int Length = 0, bool Fin = false, ulong Value = 0);

/// <summary>A packet in flight, as loss detection (RFC 9002 Appendix A.1.1) tracks it. Pooled by the connection.</summary>
internal sealed class SentPacket
{
    public ulong PacketNumber { get; set; }

    public EncryptionLevel Level { get; set; }

    public Instant TimeSent { get; set; }

    /// <summary>Bytes of the UDP payload this packet took, counted for congestion control.</summary>
    public int Size { get; set; }

    public bool AckEliciting { get; set; }

    public bool InFlight { get; set; }

    /// <summary>Frames to act on when the packet is acknowledged or declared lost.</summary>
    public List<SentFrame> Frames { get; } = new(4);

    public void Reset()
    {
        PacketNumber = 0;
        Level = EncryptionLevel.Initial;
        TimeSent = default;
        Size = 0;
        AckEliciting = false;
        InFlight = false;
        Frames.Clear();
    }
}
