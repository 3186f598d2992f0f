using System.Net;
using Microsoft.Extensions.Logging;

namespace Connet.Relay;

internal static partial class RelayServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Relay listening for clients on {EndPoint}", EventName = "IngressListening")]
    public static partial void IngressListening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(2, LogLevel.Debug, "Refused client connection from {Remote}: address not allowed by the ingress", EventName = "IngressRefused")]
    public static partial void IngressRefused(ILogger logger, IPEndPoint remote);

    [LoggerMessage(3, LogLevel.Warning, "Accepting client connections on {EndPoint} failed: {Reason}", EventName = "AcceptFailed")]
    public static partial void AcceptFailed(ILogger logger, IPEndPoint endPoint, string reason);

    [LoggerMessage(4, LogLevel.Information, "Authenticated to control {Server} (control {ControlId})", EventName = "ControlConnected")]
    public static partial void ControlConnected(ILogger logger, string server, string controlId);

    [LoggerMessage(5, LogLevel.Error, "Control refused the relay token: {Reason}", EventName = "ControlAuthenticationFailed")]
    public static partial void ControlAuthenticationFailed(ILogger logger, string reason);

    [LoggerMessage(6, LogLevel.Warning, "Control connection failed, reconnecting: {Reason}", EventName = "ControlFailed")]
    public static partial void ControlFailed(ILogger logger, string reason);

    [LoggerMessage(7, LogLevel.Error, "Refusing control server {ControlId}: this relay belongs to control {StoredControlId}", EventName = "ControlIdChanged")]
    public static partial void ControlIdChanged(ILogger logger, string controlId, string storedControlId);

    [LoggerMessage(8, LogLevel.Information, "Client {Remote} refused: {Reason}", EventName = "ClientRefused")]
    public static partial void ClientRefused(ILogger logger, IPEndPoint remote, string reason);

    [LoggerMessage(9, LogLevel.Debug, "Client {Remote} authenticated as {Role} of {Endpoint}", EventName = "ClientAuthenticated")]
    public static partial void ClientAuthenticated(ILogger logger, IPEndPoint remote, string endpoint, string role);

    [LoggerMessage(10, LogLevel.Debug, "Client {Remote} ({Endpoint}) disconnected", EventName = "ClientDisconnected")]
    public static partial void ClientDisconnected(ILogger logger, IPEndPoint remote, string endpoint);

    [LoggerMessage(11, LogLevel.Warning, "Client {Remote} broke the protocol and is disconnected: {Reason}", EventName = "ClientProtocolError")]
    public static partial void ClientProtocolError(ILogger logger, IPEndPoint remote, string reason);

    [LoggerMessage(12, LogLevel.Debug, "Destination {Remote} of {Endpoint} did not take a connection: {Reason}", EventName = "DestinationFailed")]
    public static partial void DestinationFailed(ILogger logger, IPEndPoint remote, string endpoint, string reason);

    [LoggerMessage(13, LogLevel.Debug, "Relayed stream of {Endpoint} ended: {Reason}", EventName = "SpliceEnded")]
    public static partial void SpliceEnded(ILogger logger, string endpoint, string reason);

    [LoggerMessage(14, LogLevel.Warning, "Client session {Remote} failed unexpectedly", EventName = "SessionFailed")]
    public static partial void SessionFailed(ILogger logger, IPEndPoint remote, Exception exception);
}
