using Connet.Quic.Core;
using Connet.Quic.Core.Connection;

namespace Connet.Quic.Io;

/// <summary>Turns the core's reason for a closed connection into the exception the API surfaces.</summary>
internal static class CloseInfoMapping
{
    public static QuicException ToException(ConnectionCloseInfo? info)
    {
        if (info is null)
        {
            return QuicException.OperationAborted("connection");
        }

        string detail = string.IsNullOrEmpty(info.Message) ? string.Empty : $": '{info.Message}'";
        long code = (long)info.ErrorCode;
        return info.Reason switch
        {
            ConnectionCloseReason.LocalApplication => QuicException.OperationAborted("connection"),
            ConnectionCloseReason.PeerApplication => new QuicException(
                QuicError.ConnectionAborted, code, null, $"The peer closed the connection with application error {info.ErrorCode}{detail}"),
            ConnectionCloseReason.PeerTransport when info.ErrorCode == (ulong)TransportErrorCode.ConnectionRefused => new QuicException(
                QuicError.ConnectionRefused, null, code, $"The peer refused the connection{detail}"),
            ConnectionCloseReason.PeerTransport => new QuicException(
                QuicError.TransportError, null, code, $"The peer closed the connection with {Describe(info.ErrorCode)}{detail}"),
            ConnectionCloseReason.LocalTransport => new QuicException(
                QuicError.TransportError, null, code, LocalTransportMessage(info)),
            ConnectionCloseReason.IdleTimeout => new QuicException(
                QuicError.ConnectionIdle, null, null, "The connection timed out after being idle."),
            ConnectionCloseReason.HandshakeTimeout => new QuicException(
                QuicError.ConnectionTimeout, null, null, "The handshake did not complete in time."),
            ConnectionCloseReason.StatelessReset => new QuicException(
                QuicError.ConnectionAborted, null, null, "The peer reset the connection (stateless reset): it no longer knows it."),
            _ => new QuicException(QuicError.InternalError, null, code, info.Message),
        };
    }

    private static string LocalTransportMessage(ConnectionCloseInfo info)
    {
        // The core's message is written for people ("the server certificate for 'x' is not trusted (PartialChain)").
        string message = string.IsNullOrEmpty(info.Message) ? Describe(info.ErrorCode) : info.Message;
        return info.ErrorCode >= (ulong)TransportErrorCode.CryptoErrorBase && info.ErrorCode < 0x200
            ? $"TLS handshake failed: {message}"
            : $"The connection failed with {Describe(info.ErrorCode)}: {message}";
    }

    private static string Describe(ulong errorCode) =>
        errorCode >= (ulong)TransportErrorCode.CryptoErrorBase && errorCode < 0x200
            ? $"TLS alert {errorCode - (ulong)TransportErrorCode.CryptoErrorBase}"
            : Enum.IsDefined((TransportErrorCode)errorCode)
                ? $"transport error {(TransportErrorCode)errorCode} (0x{errorCode:x})"
                : $"transport error 0x{errorCode:x}";
}
