using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>CRYPTO (§19.6): TLS handshake bytes at an offset of the level's crypto stream. Data points into the packet.</summary>
internal readonly ref struct CryptoFrame
{
    private const ulong Type = (ulong)FrameType.Crypto;

    public CryptoFrame(ulong offset, ReadOnlySpan<byte> data)
    {
        Offset = offset;
        Data = data;
    }

    public ulong Offset { get; }

    public ReadOnlySpan<byte> Data { get; }

    public int EncodedLength => EncodedLengthFor(Offset, Data.Length);

    public static int EncodedLengthFor(ulong offset, int dataLength) =>
        1 + VarInt.EncodedLength(offset) + VarInt.EncodedLength((ulong)dataLength) + dataLength;

    public static CryptoFrame Decode(scoped ref SpanReader reader)
    {
        ulong offset = FrameDecoding.ReadVarInt(ref reader, Type);
        ReadOnlySpan<byte> data = FrameDecoding.ReadLengthPrefixed(ref reader, Type);

        // offset <= 2^62-1 already, so the sum cannot wrap.
        if (offset + (ulong)data.Length > FrameDecoding.MaxOffset)
        {
            FrameDecoding.ThrowInvalid(Type, "CRYPTO data beyond 2^62-1");
        }

        return new CryptoFrame(offset, data);
    }

    public void Encode(ref SpanWriter writer) => Encode(ref writer, Offset, Data);

    /// <summary>How many data bytes a CRYPTO frame at <paramref name="offset"/> can carry in <paramref name="budget"/> bytes; 0 if none.</summary>
    public static int MaxDataLength(ulong offset, int budget)
    {
        int available = budget - 1 - VarInt.EncodedLength(offset);
        int fits = available <= 0 ? 0 : FrameDecoding.MaxPayloadAfterLengthPrefix(available);
        return (int)Math.Min((ulong)fits, FrameDecoding.MaxOffset - offset);
    }

    public static void Encode(ref SpanWriter writer, ulong offset, scoped ReadOnlySpan<byte> data)
    {
        writer.WriteByte((byte)Type);
        writer.WriteVarInt(offset);
        writer.WriteVarInt((ulong)data.Length);
        data.CopyTo(writer.Reserve(data.Length));
    }
}
