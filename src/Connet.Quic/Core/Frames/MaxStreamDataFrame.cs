using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>MAX_STREAM_DATA (§19.10): a stream-level flow control limit.</summary>
internal readonly record struct MaxStreamDataFrame(ulong StreamId, ulong Maximum)
{
    private const ulong Type = (ulong)FrameType.MaxStreamData;

    public int EncodedLength => 1 + VarInt.EncodedLength(StreamId) + VarInt.EncodedLength(Maximum);

    public static MaxStreamDataFrame Decode(scoped ref SpanReader reader)
    {
        ulong streamId = FrameDecoding.ReadVarInt(ref reader, Type);
        ulong maximum = FrameDecoding.ReadVarInt(ref reader, Type);
        return new MaxStreamDataFrame(streamId, maximum);
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteVarInt(StreamId);
        writer.WriteVarInt(Maximum);
    }
}
