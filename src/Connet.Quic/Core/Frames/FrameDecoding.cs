using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>
/// Field readers shared by the frame decoders: every short read becomes FRAME_ENCODING_ERROR naming the frame
/// type, and the error path is kept out of line so the happy path stays small.
/// </summary>
internal static class FrameDecoding
{
    /// <summary>The largest stream or crypto offset plus length a frame may describe (§19.6, §19.8).</summary>
    public const ulong MaxOffset = VarInt.MaxValue;

    /// <summary>The largest stream count MAX_STREAMS and STREAMS_BLOCKED may carry (§19.11, §19.14).</summary>
    public const ulong MaxStreamCount = 1UL << 60;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadVarInt(scoped ref SpanReader reader, ulong frameType)
    {
        if (!reader.TryReadVarInt(out ulong value))
        {
            ThrowTruncated(frameType);
        }

        return value;
    }

    public static ReadOnlySpan<byte> ReadLengthPrefixed(scoped ref SpanReader reader, ulong frameType)
    {
        if (!reader.TryReadVarIntLengthPrefixed(out ReadOnlySpan<byte> bytes))
        {
            ThrowTruncated(frameType);
        }

        return bytes;
    }

    public static ReadOnlySpan<byte> ReadBytes(scoped ref SpanReader reader, int count, ulong frameType)
    {
        if (!reader.TryReadBytes(count, out ReadOnlySpan<byte> bytes))
        {
            ThrowTruncated(frameType);
        }

        return bytes;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowTruncated(ulong frameType) =>
        throw new QuicProtocolException(TransportErrorCode.FrameEncodingError, "truncated frame", frameType);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowInvalid(ulong frameType, string reason) =>
        throw new QuicProtocolException(TransportErrorCode.FrameEncodingError, reason, frameType);

    /// <summary>
    /// The most payload bytes that fit in <paramref name="available"/> bytes once a varint length of that payload
    /// precedes it; 0 when not even an empty payload fits.
    /// </summary>
    public static int MaxPayloadAfterLengthPrefix(int available)
    {
        // Try the shortest prefix first: a longer prefix only ever leaves less room.
        for (int prefix = 1; prefix <= 8; prefix <<= 1)
        {
            long payload = (long)available - prefix;
            if (payload < 0)
            {
                return 0;
            }

            if (VarInt.EncodedLength((ulong)payload) <= prefix)
            {
                return (int)payload;
            }
        }

        return 0;
    }
}
