using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>MAX_DATA (§19.9): the connection-level flow control limit.</summary>
internal readonly record struct MaxDataFrame(ulong Maximum)
{
    private const ulong Type = (ulong)FrameType.MaxData;

    public int EncodedLength => 1 + VarInt.EncodedLength(Maximum);

    public static MaxDataFrame Decode(scoped ref SpanReader reader) => new(FrameDecoding.ReadVarInt(ref reader, Type));

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteVarInt(Maximum);
    }
}
