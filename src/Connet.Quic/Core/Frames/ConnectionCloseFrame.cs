using System.Text;
using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>
/// CONNECTION_CLOSE (§19.19): 0x1c carries a transport error and the frame type that caused it, 0x1d an
/// application error. Reason points into the packet and is not checked for valid UTF-8 (it is diagnostic only).
/// </summary>
internal readonly ref struct ConnectionCloseFrame
{
    public ConnectionCloseFrame(bool isApplication, ulong errorCode, ulong frameType, ReadOnlySpan<byte> reason)
    {
        IsApplication = isApplication;
        ErrorCode = errorCode;
        FrameType = isApplication ? 0 : frameType;
        Reason = reason;
    }

    public bool IsApplication { get; }

    public ulong ErrorCode { get; }

    /// <summary>The type of the frame that triggered a transport error; 0 for application closes.</summary>
    public ulong FrameType { get; }

    public ReadOnlySpan<byte> Reason { get; }

    public int EncodedLength => FixedLength(IsApplication, ErrorCode, FrameType) + VarInt.EncodedLength((ulong)Reason.Length) + Reason.Length;

    public static ConnectionCloseFrame Decode(scoped ref SpanReader reader, ulong rawType)
    {
        bool isApplication = rawType == (ulong)Frames.FrameType.ConnectionCloseApplication;
        ulong errorCode = FrameDecoding.ReadVarInt(ref reader, rawType);
        ulong frameType = isApplication ? 0 : FrameDecoding.ReadVarInt(ref reader, rawType);
        ReadOnlySpan<byte> reason = FrameDecoding.ReadLengthPrefixed(ref reader, rawType);
        return new ConnectionCloseFrame(isApplication, errorCode, frameType, reason);
    }

    /// <summary>Writes the frame with its whole reason.</summary>
    public void Encode(ref SpanWriter writer) => Encode(ref writer, IsApplication, ErrorCode, FrameType, Reason, int.MaxValue);

    /// <summary>
    /// Writes a CONNECTION_CLOSE of at most <paramref name="maxLength"/> bytes, cutting the UTF-8
    /// <paramref name="reason"/> at a character boundary if it does not fit.
    /// </summary>
    public static void Encode(ref SpanWriter writer, bool isApplication, ulong errorCode, ulong frameType,
        scoped ReadOnlySpan<byte> reason, int maxLength)
    {
        ReadOnlySpan<byte> fitted = FitReason(isApplication, errorCode, frameType, reason, maxLength);
        writer.WriteByte((byte)(isApplication ? Frames.FrameType.ConnectionCloseApplication : Frames.FrameType.ConnectionCloseTransport));
        writer.WriteVarInt(errorCode);
        if (!isApplication)
        {
            writer.WriteVarInt(frameType);
        }

        writer.WriteVarInt((ulong)fitted.Length);
        fitted.CopyTo(writer.Reserve(fitted.Length));
    }

    /// <summary>As the byte overload, with the reason given as text.</summary>
    public static void Encode(ref SpanWriter writer, bool isApplication, ulong errorCode, ulong frameType, string reason, int maxLength) =>
        Encode(ref writer, isApplication, errorCode, frameType, Encoding.UTF8.GetBytes(reason), maxLength);

    /// <summary>The number of bytes <see cref="Encode(ref SpanWriter, bool, ulong, ulong, ReadOnlySpan{byte}, int)"/> writes for these arguments.</summary>
    public static int EncodedLengthFor(bool isApplication, ulong errorCode, ulong frameType, scoped ReadOnlySpan<byte> reason, int maxLength)
    {
        int reasonLength = FitReason(isApplication, errorCode, frameType, reason, maxLength).Length;
        return FixedLength(isApplication, errorCode, frameType) + VarInt.EncodedLength((ulong)reasonLength) + reasonLength;
    }

    /// <summary>The longest prefix of <paramref name="utf8"/> of at most <paramref name="maxBytes"/> bytes that does not split a character.</summary>
    public static ReadOnlySpan<byte> TruncateUtf8(ReadOnlySpan<byte> utf8, int maxBytes)
    {
        if (utf8.Length <= maxBytes)
        {
            return utf8;
        }

        int cut = Math.Max(maxBytes, 0);

        // Continuation bytes are 10xxxxxx; cutting before one would split the character it belongs to.
        while (cut > 0 && (utf8[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return utf8[..cut];
    }

    private static ReadOnlySpan<byte> FitReason(bool isApplication, ulong errorCode, ulong frameType, ReadOnlySpan<byte> reason, int maxLength)
    {
        int available = maxLength - FixedLength(isApplication, errorCode, frameType);
        if (available < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "Too small for a CONNECTION_CLOSE frame.");
        }

        return TruncateUtf8(reason, FrameDecoding.MaxPayloadAfterLengthPrefix(available));
    }

    private static int FixedLength(bool isApplication, ulong errorCode, ulong frameType) =>
        1 + VarInt.EncodedLength(errorCode) + (isApplication ? 0 : VarInt.EncodedLength(frameType));
}
