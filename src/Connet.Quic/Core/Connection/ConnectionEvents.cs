namespace Connet.Quic.Core.Connection;

internal enum ConnectionEventKind
{
    /// <summary>The handshake completed: streams may be opened; peer certificate and ALPN are known.</summary>
    HandshakeCompleted,

    /// <summary>The peer opened stream <c>StreamId</c> (delivered once, before any readable event for it).</summary>
    StreamOpened,

    /// <summary>Stream <c>StreamId</c> has data (or its FIN) to read.</summary>
    StreamReadable,

    /// <summary>Stream <c>StreamId</c> can take more data (send buffer or flow control credit freed).</summary>
    StreamWritable,

    /// <summary>The peer reset stream <c>StreamId</c> (RESET_STREAM); <c>ErrorCode</c> is its application code.</summary>
    StreamReset,

    /// <summary>The peer asked us to stop sending on stream <c>StreamId</c> (STOP_SENDING); <c>ErrorCode</c> is its code.</summary>
    StreamStopped,

    /// <summary>Everything written to stream <c>StreamId</c>, FIN included, was acknowledged.</summary>
    StreamWritesCompleted,

    /// <summary>The peer raised a stream limit: <c>StreamId</c> is 0 for bidirectional, 1 for unidirectional.</summary>
    StreamsAvailable,

    /// <summary>The connection is closed (see <see cref="Connection.CloseInfo"/>); no more events follow.</summary>
    ConnectionClosed,
}

internal readonly record struct ConnectionEvent(ConnectionEventKind Kind, long StreamId = 0, ulong ErrorCode = 0);

internal enum EndpointEventKind
{
    /// <summary>A local connection ID was issued: route datagrams carrying it to this connection.</summary>
    ConnectionIdIssued,

    /// <summary>A local connection ID was retired: stop routing it.</summary>
    ConnectionIdRetired,

    /// <summary>The connection has finished closing or draining and can be forgotten.</summary>
    Drained,
}

internal readonly record struct EndpointEvent(EndpointEventKind Kind, ConnectionId ConnectionId = default, StatelessResetToken ResetToken = default);

/// <summary>Why a connection closed, as both ends of the API need it.</summary>
internal sealed record ConnectionCloseInfo(
    ConnectionCloseReason Reason,
    ulong ErrorCode,
    ulong FrameType,
    string Message);

internal enum ConnectionCloseReason
{
    /// <summary>The local application called Close (ErrorCode is its application code).</summary>
    LocalApplication,

    /// <summary>The local stack found a protocol violation (ErrorCode is a transport error code).</summary>
    LocalTransport,

    /// <summary>The peer closed with an application error code.</summary>
    PeerApplication,

    /// <summary>The peer closed with a transport error code.</summary>
    PeerTransport,

    IdleTimeout,

    HandshakeTimeout,

    StatelessReset,

    /// <summary>The server answered with Version Negotiation and none of its versions is ours.</summary>
    VersionNegotiation,
}
