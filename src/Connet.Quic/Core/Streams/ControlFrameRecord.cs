using Connet.Quic.Core.Recovery;

namespace Connet.Quic.Core.Streams;

/// <summary>
/// Converts stream-layer control frames to and from the <see cref="SentFrame"/> records a sent packet keeps, so a loss
/// or acknowledgement can be handed back to <see cref="StreamManager"/> unchanged. All of them use
/// <see cref="SentFrameKind.StreamControl"/>; <see cref="SentFrame.Length"/> carries the exact <see cref="ControlFrameKind"/>.
/// </summary>
internal static class ControlFrameRecord
{
    public static SentFrame ToSentFrame(in ControlFrame frame) =>
        new(SentFrameKind.StreamControl, frame.StreamId, Offset: frame.FinalSize, Length: (int)frame.Kind, Value: frame.Value);

    /// <summary>False for records that are not stream-layer control frames (ACK, CRYPTO, STREAM, connection IDs, ...).</summary>
    public static bool TryFromSentFrame(in SentFrame sent, out ControlFrame frame)
    {
        if (sent.Kind != SentFrameKind.StreamControl)
        {
            frame = default;
            return false;
        }

        frame = new ControlFrame((ControlFrameKind)sent.Length, sent.StreamId, sent.Value, sent.Offset);
        return true;
    }
}
