using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>RETIRE_CONNECTION_ID (§19.16): the sender will no longer use the peer's connection ID with this sequence number.</summary>
internal readonly record struct RetireConnectionIdFrame(ulong SequenceNumber)
{
    private const ulong Type = (ulong)FrameType.RetireConnectionId;

    public int EncodedLength => 1 + VarInt.EncodedLength(SequenceNumber);

    public static RetireConnectionIdFrame Decode(scoped ref SpanReader reader) => new(FrameDecoding.ReadVarInt(ref reader, Type));

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteVarInt(SequenceNumber);
    }
}
