using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>HANDSHAKE_DONE (§19.20): the server's signal that the handshake is confirmed. No content.</summary>
// Instance members keep every frame's shape the same for callers, even where there is no content.
#pragma warning disable CA1822
internal readonly record struct HandshakeDoneFrame
{
    public int EncodedLength => 1;

    public static HandshakeDoneFrame Decode(scoped ref SpanReader reader) => default;

    public void Encode(ref SpanWriter writer) => writer.WriteByte((byte)FrameType.HandshakeDone);
}
#pragma warning restore CA1822
