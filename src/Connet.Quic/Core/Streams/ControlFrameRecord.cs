using Connet.Quic.Core.Recovery;

namespace Connet.Quic.Core.Streams;

/// <summary>
/// Converts stream-layer control frames to and from the <see cref="SentFrame"/> records a sent packet keeps, so a loss
/// or acknowledgement can be handed back to <see cref="StreamManager"/> unchanged. The three BLOCKED frames share
/// <see cref="SentFrameKind.Blocked"/>; <see cref="SentFrame.Length"/> carries which one it was.
/// </summary>
internal static class ControlFrameRecord
{
    public static SentFrame ToSentFrame(in ControlFrame frame) => frame.Kind switch
    {
        ControlFrameKind.MaxData => new SentFrame(SentFrameKind.MaxData, Value: frame.Value),
        ControlFrameKind.MaxStreamData => new SentFrame(SentFrameKind.MaxStreamData, frame.StreamId, Value: frame.Value),
        ControlFrameKind.MaxStreamsBidi => new SentFrame(SentFrameKind.MaxStreams, Value: frame.Value),
        ControlFrameKind.MaxStreamsUni => new SentFrame(SentFrameKind.MaxStreams, Fin: true, Value: frame.Value),
        ControlFrameKind.ResetStream => new SentFrame(SentFrameKind.ResetStream, frame.StreamId, Offset: frame.FinalSize, Value: frame.Value),
        ControlFrameKind.StopSending => new SentFrame(SentFrameKind.StopSending, frame.StreamId, Value: frame.Value),
        ControlFrameKind.DataBlocked or ControlFrameKind.StreamDataBlocked or ControlFrameKind.StreamsBlockedBidi or ControlFrameKind.StreamsBlockedUni =>
            new SentFrame(
                SentFrameKind.Blocked,
                frame.StreamId,
                Length: (int)frame.Kind,
                Fin: frame.Kind == ControlFrameKind.StreamsBlockedUni,
                Value: frame.Value),
        _ => throw new ArgumentOutOfRangeException(nameof(frame), frame.Kind, "Not a stream-layer control frame."),
    };

    /// <summary>False for records that are not stream-layer control frames (ACK, CRYPTO, STREAM, connection IDs, ...).</summary>
    public static bool TryFromSentFrame(in SentFrame sent, out ControlFrame frame)
    {
        frame = sent.Kind switch
        {
            SentFrameKind.MaxData => new ControlFrame(ControlFrameKind.MaxData, 0, sent.Value),
            SentFrameKind.MaxStreamData => new ControlFrame(ControlFrameKind.MaxStreamData, sent.StreamId, sent.Value),
            SentFrameKind.MaxStreams => new ControlFrame(sent.Fin ? ControlFrameKind.MaxStreamsUni : ControlFrameKind.MaxStreamsBidi, 0, sent.Value),
            SentFrameKind.ResetStream => new ControlFrame(ControlFrameKind.ResetStream, sent.StreamId, sent.Value, sent.Offset),
            SentFrameKind.StopSending => new ControlFrame(ControlFrameKind.StopSending, sent.StreamId, sent.Value),
            SentFrameKind.Blocked => new ControlFrame((ControlFrameKind)sent.Length, sent.StreamId, sent.Value),
            _ => default,
        };
        return sent.Kind is SentFrameKind.MaxData or SentFrameKind.MaxStreamData or SentFrameKind.MaxStreams
            or SentFrameKind.ResetStream or SentFrameKind.StopSending or SentFrameKind.Blocked;
    }
}
