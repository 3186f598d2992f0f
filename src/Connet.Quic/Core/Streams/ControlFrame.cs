namespace Connet.Quic.Core.Streams;

/// <summary>
/// One stream-layer control frame, already decided: <see cref="Value"/> is the maximum or blocked limit, or the
/// application error code for RESET_STREAM / STOP_SENDING; <see cref="FinalSize"/> is only used by RESET_STREAM.
/// Hand the same value back to <see cref="StreamManager.OnControlFrameLost"/> or
/// <see cref="StreamManager.OnControlFrameAcked"/>.
/// </summary>
internal readonly record struct ControlFrame(ControlFrameKind Kind, ulong StreamId, ulong Value, ulong FinalSize = 0);
