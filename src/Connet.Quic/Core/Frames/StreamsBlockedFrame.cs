using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>STREAMS_BLOCKED (§19.14), 0x16 bidirectional / 0x17 unidirectional: the sender hit the stream count limit.</summary>
internal readonly record struct StreamsBlockedFrame(bool Bidirectional, ulong Limit)
{
    public int EncodedLength => 1 + VarInt.EncodedLength(Limit);

    /// <summary>A limit above 2^60 is FRAME_ENCODING_ERROR (§19.14 allows that or STREAM_LIMIT_ERROR).</summary>
    public static StreamsBlockedFrame Decode(scoped ref SpanReader reader, ulong rawType)
    {
        ulong limit = FrameDecoding.ReadVarInt(ref reader, rawType);
        if (limit > FrameDecoding.MaxStreamCount)
        {
            FrameDecoding.ThrowInvalid(rawType, "STREAMS_BLOCKED above 2^60");
        }

        return new StreamsBlockedFrame(rawType == (ulong)FrameType.StreamsBlockedBidi, limit);
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)(Bidirectional ? FrameType.StreamsBlockedBidi : FrameType.StreamsBlockedUni));
        writer.WriteVarInt(Limit);
    }
}
