using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>MAX_STREAMS (§19.11), 0x12 bidirectional / 0x13 unidirectional: the cumulative stream count allowed.</summary>
internal readonly record struct MaxStreamsFrame(bool Bidirectional, ulong Maximum)
{
    public int EncodedLength => 1 + VarInt.EncodedLength(Maximum);

    /// <summary>A count above 2^60 would allow stream IDs beyond 2^62-1: FRAME_ENCODING_ERROR (§19.11).</summary>
    public static MaxStreamsFrame Decode(scoped ref SpanReader reader, ulong rawType)
    {
        ulong maximum = FrameDecoding.ReadVarInt(ref reader, rawType);
        if (maximum > FrameDecoding.MaxStreamCount)
        {
            FrameDecoding.ThrowInvalid(rawType, "MAX_STREAMS above 2^60");
        }

        return new MaxStreamsFrame(rawType == (ulong)FrameType.MaxStreamsBidi, maximum);
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)(Bidirectional ? FrameType.MaxStreamsBidi : FrameType.MaxStreamsUni));
        writer.WriteVarInt(Maximum);
    }
}
