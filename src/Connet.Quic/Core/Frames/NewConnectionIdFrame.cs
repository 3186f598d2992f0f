using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>NEW_CONNECTION_ID (§19.15): an alternative connection ID for the peer to use, with its reset token.</summary>
internal readonly record struct NewConnectionIdFrame(
    ulong SequenceNumber, ulong RetirePriorTo, ConnectionId ConnectionId, StatelessResetToken ResetToken)
{
    private const ulong Type = (ulong)FrameType.NewConnectionId;

    public int EncodedLength =>
        1 + VarInt.EncodedLength(SequenceNumber) + VarInt.EncodedLength(RetirePriorTo) + 1 + ConnectionId.Length
        + StatelessResetToken.Length;

    public static NewConnectionIdFrame Decode(scoped ref SpanReader reader)
    {
        ulong sequenceNumber = FrameDecoding.ReadVarInt(ref reader, Type);
        ulong retirePriorTo = FrameDecoding.ReadVarInt(ref reader, Type);
        if (!reader.TryReadByte(out byte length))
        {
            FrameDecoding.ThrowTruncated(Type);
        }

        if (length is 0 or > ConnectionId.MaxLength)
        {
            FrameDecoding.ThrowInvalid(Type, "NEW_CONNECTION_ID length not in 1..20");
        }

        var connectionId = new ConnectionId(FrameDecoding.ReadBytes(ref reader, length, Type));
        var resetToken = new StatelessResetToken(FrameDecoding.ReadBytes(ref reader, StatelessResetToken.Length, Type));
        if (retirePriorTo > sequenceNumber)
        {
            FrameDecoding.ThrowInvalid(Type, "Retire Prior To above Sequence Number");
        }

        return new NewConnectionIdFrame(sequenceNumber, retirePriorTo, connectionId, resetToken);
    }

    public void Encode(ref SpanWriter writer)
    {
        ConnectionId connectionId = ConnectionId;
        if (connectionId.Length == 0)
        {
            throw new InvalidOperationException("NEW_CONNECTION_ID cannot carry a zero-length connection ID.");
        }

        writer.WriteByte((byte)Type);
        writer.WriteVarInt(SequenceNumber);
        writer.WriteVarInt(RetirePriorTo);
        writer.WriteByte((byte)connectionId.Length);
        connectionId.Span.CopyTo(writer.Reserve(connectionId.Length));
        ResetToken.CopyTo(writer.Reserve(StatelessResetToken.Length));
    }
}
