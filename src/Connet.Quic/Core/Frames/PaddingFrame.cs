using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>
/// A run of PADDING frames (§19.1). Each is a single 0x00 byte with no meaning, so consecutive ones are decoded
/// as one value carrying the run length rather than one frame per byte.
/// </summary>
internal readonly record struct PaddingFrame(int Length)
{
    public int EncodedLength => Length;

    /// <summary>Consumes the padding bytes following the already-read first one; returns the whole run.</summary>
    public static PaddingFrame Decode(scoped ref SpanReader reader)
    {
        ReadOnlySpan<byte> remaining = reader.RemainingSpan;
        int run = remaining.IndexOfAnyExcept((byte)0);
        if (run < 0)
        {
            run = remaining.Length;
        }

        reader.TrySkip(run);
        return new PaddingFrame(run + 1);
    }

    public void Encode(ref SpanWriter writer) => Write(ref writer, Length);

    /// <summary>Writes <paramref name="count"/> PADDING frames (zero bytes).</summary>
    public static void Write(ref SpanWriter writer, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        writer.Reserve(count).Clear();
    }
}
