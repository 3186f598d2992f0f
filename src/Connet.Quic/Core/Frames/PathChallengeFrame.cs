using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>PATH_CHALLENGE (§19.17): 8 opaque bytes, held big-endian in a ulong, to be echoed in PATH_RESPONSE.</summary>
// Instance members keep every frame's shape the same for callers, even where there is no content.
#pragma warning disable CA1822
internal readonly record struct PathChallengeFrame(ulong Data)
{
    private const ulong Type = (ulong)FrameType.PathChallenge;

    public int EncodedLength => 9;

    public static PathChallengeFrame Decode(scoped ref SpanReader reader)
    {
        if (!reader.TryReadUInt64(out ulong data))
        {
            FrameDecoding.ThrowTruncated(Type);
        }

        return new PathChallengeFrame(data);
    }

    public void Encode(ref SpanWriter writer)
    {
        writer.WriteByte((byte)Type);
        writer.WriteUInt64(Data);
    }
}
#pragma warning restore CA1822
