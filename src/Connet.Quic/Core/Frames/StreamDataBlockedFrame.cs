using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>STREAM_DATA_BLOCKED (§19.13): the sender is blocked by a stream's flow control at <see cref="Limit"/>.</summary>
internal readonly record struct StreamDataBlockedFrame(ulong StreamId, ulong Limit)
{
    private const ulong Type = (ulong)FrameType.StreamDataBlocked;

    public int EncodedLength => 1 + VarInt.EncodedLength(StreamId) + VarInt.EncodedLength(Limit);

    public static StreamDataBlockedFrame Decode(scoped ref SpanReader reader)
    {
        ulong streamId = FrameDecoding.ReadVarInt(ref reader, Type);
        ulong limit = FrameDecoding.ReadVarInt(ref reader, Type);
        return new StreamDataBlockedFrame(streamId, limit);
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteVarInt(StreamId);
        writer.WriteVarInt(Limit);
    }
}
