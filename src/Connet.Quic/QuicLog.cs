using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Connet.Quic;

/// <summary>Log messages of the endpoint, driver and API layers; ids are stable, never reuse one.</summary>
internal static partial class QuicLog
{
    [LoggerMessage(1, LogLevel.Information, "QUIC endpoint bound to {LocalEndPoint} (listening: {IsListening}).", EventName = "EndpointBound")]
    public static partial void EndpointBound(ILogger logger, IPEndPoint localEndPoint, bool isListening);

    [LoggerMessage(2, LogLevel.Debug, "QUIC endpoint {LocalEndPoint} disposed.", EventName = "EndpointDisposed")]
    public static partial void EndpointDisposed(ILogger logger, IPEndPoint localEndPoint);

    [LoggerMessage(3, LogLevel.Debug, "Connection to {RemoteEndPoint} created (client: {IsClient}).", EventName = "ConnectionCreated")]
    public static partial void ConnectionCreated(ILogger logger, IPEndPoint remoteEndPoint, bool isClient);

    [LoggerMessage(4, LogLevel.Debug, "Connection to {RemoteEndPoint} closed: {Reason}.", EventName = "ConnectionClosed")]
    public static partial void ConnectionClosed(ILogger logger, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(5, LogLevel.Information, "Handshake with {RemoteEndPoint} failed: {Reason}.", EventName = "HandshakeFailed")]
    public static partial void HandshakeFailed(ILogger logger, IPEndPoint remoteEndPoint, string reason);

    [LoggerMessage(6, LogLevel.Error, "The UDP socket {LocalEndPoint} failed; closing the endpoint.", EventName = "SocketFailed")]
    public static partial void SocketFailed(ILogger logger, IPEndPoint localEndPoint, Exception exception);

    [LoggerMessage(7, LogLevel.Debug, "Sending to {RemoteEndPoint} failed: {Error}.", EventName = "SendFailed")]
    public static partial void SendFailed(ILogger logger, IPEndPoint remoteEndPoint, SocketError error);

    [LoggerMessage(8, LogLevel.Warning, "The connection options callback failed for {RemoteEndPoint}; connection refused.", EventName = "ConnectionOptionsCallbackFailed")]
    public static partial void ConnectionOptionsCallbackFailed(ILogger logger, IPEndPoint remoteEndPoint, Exception exception);

    [LoggerMessage(9, LogLevel.Error, "The protocol core failed on the connection to {RemoteEndPoint}; aborting it.", EventName = "ConnectionCoreFailed")]
    public static partial void ConnectionCoreFailed(ILogger logger, IPEndPoint remoteEndPoint, Exception exception);

    [LoggerMessage(10, LogLevel.Debug, "Connection from {RemoteEndPoint} accepted.", EventName = "ConnectionAccepted")]
    public static partial void ConnectionAccepted(ILogger logger, IPEndPoint remoteEndPoint);

    [LoggerMessage(11, LogLevel.Trace, "Raw datagram from {RemoteEndPoint} dropped: the queue is full.", EventName = "RawDatagramDropped")]
    public static partial void RawDatagramDropped(ILogger logger, IPEndPoint remoteEndPoint);

    [LoggerMessage(12, LogLevel.Error, "Handling a datagram received on {LocalEndPoint} failed; it was dropped.", EventName = "DatagramHandlingFailed")]
    public static partial void DatagramHandlingFailed(ILogger logger, IPEndPoint localEndPoint, Exception exception);
}
