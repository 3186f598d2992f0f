using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>DATA_BLOCKED (§19.12): the sender is blocked by connection flow control at <see cref="Limit"/>.</summary>
internal readonly record struct DataBlockedFrame(ulong Limit)
{
    private const ulong Type = (ulong)FrameType.DataBlocked;

    public int EncodedLength => 1 + VarInt.EncodedLength(Limit);

    public static DataBlockedFrame Decode(scoped ref SpanReader reader) => new(FrameDecoding.ReadVarInt(ref reader, Type));

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteVarInt(Limit);
    }
}
