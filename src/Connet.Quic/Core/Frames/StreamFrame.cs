using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>
/// STREAM (§19.8), types 0x08..0x0f: the low bits say whether Offset (0x04) and Length (0x02) are present and
/// whether this is the end of the stream (0x01). Data points into the packet.
/// </summary>
internal readonly ref struct StreamFrame
{
    public const byte OffBit = 0x04;
    public const byte LenBit = 0x02;
    public const byte FinBit = 0x01;

    public StreamFrame(ulong streamId, ulong offset, bool fin, ReadOnlySpan<byte> data)
    {
        StreamId = streamId;
        Offset = offset;
        Fin = fin;
        Data = data;
    }

    public ulong StreamId { get; }

    public ulong Offset { get; }

    public bool Fin { get; }

    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The encoded size when written with an explicit length, as <see cref="Encode(ref SpanWriter)"/> does.</summary>
    public int EncodedLength => EncodedLengthFor(StreamId, Offset, Data.Length, withLength: true);

    /// <summary>Decodes the frame body; without the LEN bit the data runs to the end of the packet.</summary>
    public static StreamFrame Decode(scoped ref SpanReader reader, ulong rawType)
    {
        ulong streamId = FrameDecoding.ReadVarInt(ref reader, rawType);
        ulong offset = (rawType & OffBit) != 0 ? FrameDecoding.ReadVarInt(ref reader, rawType) : 0;
        ReadOnlySpan<byte> data;
        if ((rawType & LenBit) != 0)
        {
            data = FrameDecoding.ReadLengthPrefixed(ref reader, rawType);
        }
        else
        {
            data = FrameDecoding.ReadBytes(ref reader, reader.Remaining, rawType);
        }

        if (offset + (ulong)data.Length > FrameDecoding.MaxOffset)
        {
            FrameDecoding.ThrowInvalid(rawType, "STREAM data beyond 2^62-1");
        }

        return new StreamFrame(streamId, offset, (rawType & FinBit) != 0, data);
    }

    public void Encode(ref SpanWriter writer) => Encode(ref writer, StreamId, Offset, Data, Fin, withLength: true);

    public static int EncodedLengthFor(ulong streamId, ulong offset, int dataLength, bool withLength) =>
        HeaderLength(streamId, offset, dataLength, withLength) + dataLength;

    /// <summary>
    /// How many data bytes fit in a STREAM frame of at most <paramref name="budget"/> bytes; 0 when none do (check
    /// <see cref="EncodedLengthFor"/> with length 0 to see whether a FIN-only frame fits).
    /// </summary>
    public static int MaxDataLength(ulong streamId, ulong offset, int budget, bool withLength)
    {
        int available = budget - 1 - VarInt.EncodedLength(streamId) - (offset == 0 ? 0 : VarInt.EncodedLength(offset));
        if (available <= 0)
        {
            return 0;
        }

        int fits = withLength ? FrameDecoding.MaxPayloadAfterLengthPrefix(available) : available;
        return (int)Math.Min((ulong)fits, FrameDecoding.MaxOffset - offset);
    }

    /// <summary>
    /// Writes a STREAM frame. The Offset field is left out at offset 0; leaving out the Length field
    /// (<paramref name="withLength"/> false) is only valid for the last frame of a packet.
    /// </summary>
    public static void Encode(ref SpanWriter writer, ulong streamId, ulong offset, scoped ReadOnlySpan<byte> data, bool fin, bool withLength) =>
        data.CopyTo(EncodeHeaderAndReserve(ref writer, streamId, offset, data.Length, fin, withLength));

    /// <summary>
    /// Writes the frame header and returns the <paramref name="dataLength"/> bytes after it, for the caller to fill
    /// straight from its send buffer.
    /// </summary>
    public static Span<byte> EncodeHeaderAndReserve(ref SpanWriter writer, ulong streamId, ulong offset, int dataLength, bool fin, bool withLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        byte type = (byte)FrameType.Stream;
        if (offset != 0)
        {
            type |= OffBit;
        }

        if (withLength)
        {
            type |= LenBit;
        }

        if (fin)
        {
            type |= FinBit;
        }

        writer.WriteByte(type);
        writer.WriteVarInt(streamId);
        if (offset != 0)
        {
            writer.WriteVarInt(offset);
        }

        if (withLength)
        {
            writer.WriteVarInt((ulong)dataLength);
        }

        return writer.Reserve(dataLength);
    }

    private static int HeaderLength(ulong streamId, ulong offset, int dataLength, bool withLength) =>
        1 + VarInt.EncodedLength(streamId) + (offset == 0 ? 0 : VarInt.EncodedLength(offset))
        + (withLength ? VarInt.EncodedLength((ulong)dataLength) : 0);
}
