namespace Connet.Quic.Core.Streams;

/// <summary>
/// Flow-control and stream-count limits of one side, as carried by the initial_max_* transport parameters
/// (RFC 9000 §18.2). "Local"/"Remote" in the bidirectional windows are from the point of view of the side that
/// announces them: BidiLocal applies to streams that side opened.
/// </summary>
internal readonly record struct StreamLimits(
    ulong MaxData,
    ulong MaxStreamDataBidiLocal,
    ulong MaxStreamDataBidiRemote,
    ulong MaxStreamDataUni,
    ulong MaxStreamsBidi,
    ulong MaxStreamsUni);
