using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>PING (§19.2): no content; it only elicits an acknowledgement.</summary>
// Instance members keep every frame's shape the same for callers, even where there is no content.
#pragma warning disable CA1822
internal readonly record struct PingFrame
{
    public int EncodedLength => 1;

    public static PingFrame Decode(scoped ref SpanReader reader) => default;

    public void Encode(ref SpanWriter writer) => writer.WriteByte((byte)FrameType.Ping);
}
#pragma warning restore CA1822
