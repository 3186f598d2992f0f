using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>RESET_STREAM (§19.4): the sender abandons a stream's send side at <see cref="FinalSize"/>.</summary>
internal readonly record struct ResetStreamFrame(ulong StreamId, ulong ApplicationErrorCode, ulong FinalSize)
{
    private const ulong Type = (ulong)FrameType.ResetStream;

    public int EncodedLength =>
        1 + VarInt.EncodedLength(StreamId) + VarInt.EncodedLength(ApplicationErrorCode) + VarInt.EncodedLength(FinalSize);

    public static ResetStreamFrame Decode(scoped ref SpanReader reader)
    {
        ulong streamId = FrameDecoding.ReadVarInt(ref reader, Type);
        ulong errorCode = FrameDecoding.ReadVarInt(ref reader, Type);
        ulong finalSize = FrameDecoding.ReadVarInt(ref reader, Type);
        return new ResetStreamFrame(streamId, errorCode, finalSize);
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteVarInt(StreamId);
        writer.WriteVarInt(ApplicationErrorCode);
        writer.WriteVarInt(FinalSize);
    }
}
