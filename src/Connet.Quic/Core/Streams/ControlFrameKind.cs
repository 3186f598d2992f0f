namespace Connet.Quic.Core.Streams;

/// <summary>Stream and flow-control frames the stream layer asks the connection to send.</summary>
internal enum ControlFrameKind
{
    MaxData,
    MaxStreamData,
    MaxStreamsBidi,
    MaxStreamsUni,
    DataBlocked,
    StreamDataBlocked,
    StreamsBlockedBidi,
    StreamsBlockedUni,
    ResetStream,
    StopSending,
}
