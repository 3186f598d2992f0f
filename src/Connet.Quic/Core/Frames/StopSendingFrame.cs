using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>STOP_SENDING (§19.5): the receiver asks the peer to stop sending on a stream.</summary>
internal readonly record struct StopSendingFrame(ulong StreamId, ulong ApplicationErrorCode)
{
    private const ulong Type = (ulong)FrameType.StopSending;

    public int EncodedLength => 1 + VarInt.EncodedLength(StreamId) + VarInt.EncodedLength(ApplicationErrorCode);

    public static StopSendingFrame Decode(scoped ref SpanReader reader)
    {
        ulong streamId = FrameDecoding.ReadVarInt(ref reader, Type);
        ulong errorCode = FrameDecoding.ReadVarInt(ref reader, Type);
        return new StopSendingFrame(streamId, errorCode);
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteVarInt(StreamId);
        writer.WriteVarInt(ApplicationErrorCode);
    }
}
