using System.Net;
using Microsoft.Extensions.Logging;

namespace Connet.Server.Control;

internal static partial class ControlServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Control server listening for clients on {EndPoint}", EventName = "IngressListening")]
    public static partial void IngressListening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(2, LogLevel.Debug, "Refused client connection from {Remote}: address not allowed by the ingress", EventName = "IngressRefused")]
    public static partial void IngressRefused(ILogger logger, IPEndPoint remote);

    [LoggerMessage(3, LogLevel.Warning, "Accepting client connections on {EndPoint} failed", EventName = "AcceptFailed")]
    public static partial void AcceptFailed(ILogger logger, IPEndPoint endPoint, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Client {Remote} failed to authenticate: {Reason}", EventName = "AuthenticationFailed")]
    public static partial void AuthenticationFailed(ILogger logger, IPEndPoint remote, string reason);

    [LoggerMessage(5, LogLevel.Information, "Client {ClientId} authenticated from {Remote} (reconnect: {Reconnected})", EventName = "ClientAuthenticated")]
    public static partial void ClientAuthenticated(ILogger logger, string clientId, IPEndPoint remote, bool reconnected);

    [LoggerMessage(6, LogLevel.Information, "Client {ClientId} disconnected", EventName = "ClientDisconnected")]
    public static partial void ClientDisconnected(ILogger logger, string clientId);

    [LoggerMessage(7, LogLevel.Warning, "Client {ClientId} broke the protocol and is disconnected", EventName = "ClientProtocolError")]
    public static partial void ClientProtocolError(ILogger logger, string clientId, Exception exception);

    [LoggerMessage(8, LogLevel.Debug, "Client {ClientId} request refused: {Reason}", EventName = "RequestRefused")]
    public static partial void RequestRefused(ILogger logger, string clientId, string reason);

    [LoggerMessage(9, LogLevel.Debug, "Client connection from {Remote} ended before authenticating", EventName = "ClientGoneBeforeAuthentication")]
    public static partial void ClientGoneBeforeAuthentication(ILogger logger, IPEndPoint remote, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "Client session {Remote} failed unexpectedly", EventName = "SessionFailed")]
    public static partial void SessionFailed(ILogger logger, IPEndPoint remote, Exception exception);

    [LoggerMessage(11, LogLevel.Information, "Control server listening for relays on {EndPoint}", EventName = "RelayIngressListening")]
    public static partial void RelayIngressListening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(12, LogLevel.Debug, "Refused relay connection from {Remote}: address not allowed by the relay ingress", EventName = "RelayIngressRefused")]
    public static partial void RelayIngressRefused(ILogger logger, IPEndPoint remote);

    [LoggerMessage(13, LogLevel.Information, "Relay {Remote} failed to authenticate: {Reason}", EventName = "RelayAuthenticationFailed")]
    public static partial void RelayAuthenticationFailed(ILogger logger, IPEndPoint remote, string reason);

    [LoggerMessage(14, LogLevel.Information, "Relay {RelayId} authenticated from {Remote} (reconnect: {Reconnected})", EventName = "RelayAuthenticated")]
    public static partial void RelayAuthenticated(ILogger logger, string relayId, IPEndPoint remote, bool reconnected);

    [LoggerMessage(15, LogLevel.Information, "Relay {RelayId} disconnected", EventName = "RelayDisconnected")]
    public static partial void RelayDisconnected(ILogger logger, string relayId);

    [LoggerMessage(16, LogLevel.Warning, "Relay {RelayId} broke the protocol and is disconnected: {Reason}", EventName = "RelayProtocolError")]
    public static partial void RelayProtocolError(ILogger logger, string relayId, string reason);

    [LoggerMessage(17, LogLevel.Debug, "Relay connection from {Remote} ended before authenticating", EventName = "RelayGoneBeforeAuthentication")]
    public static partial void RelayGoneBeforeAuthentication(ILogger logger, IPEndPoint remote, Exception exception);

    [LoggerMessage(18, LogLevel.Warning, "Relay session {Remote} failed unexpectedly", EventName = "RelaySessionFailed")]
    public static partial void RelaySessionFailed(ILogger logger, IPEndPoint remote, Exception exception);
}
