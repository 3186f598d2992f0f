using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>PATH_RESPONSE (§19.18): echoes the 8 bytes of a PATH_CHALLENGE, held big-endian in a ulong.</summary>
// Instance members keep every frame's shape the same for callers, even where there is no content.
#pragma warning disable CA1822
internal readonly record struct PathResponseFrame(ulong Data)
{
    private const ulong Type = (ulong)FrameType.PathResponse;

    public int EncodedLength => 9;

    public static PathResponseFrame Decode(scoped ref SpanReader reader)
    {
        if (!reader.TryReadUInt64(out ulong data))
        {
            FrameDecoding.ThrowTruncated(Type);
        }

        return new PathResponseFrame(data);
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteUInt64(Data);
    }
}
#pragma warning restore CA1822
