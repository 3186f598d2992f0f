namespace Connet.Quic;

/// <summary>Why a QUIC operation failed (the System.Net.Quic names and order).</summary>
public enum QuicError
{
    /// <summary>No error.</summary>
    Success,

    /// <summary>A failure inside the stack itself.</summary>
    InternalError,

    /// <summary>The peer closed the connection with an application error code (see <see cref="QuicException.ApplicationErrorCode"/>).</summary>
    ConnectionAborted,

    /// <summary>The peer aborted the stream (RESET_STREAM or STOP_SENDING; see <see cref="QuicException.ApplicationErrorCode"/>).</summary>
    StreamAborted,

    /// <summary>The local address is already in use.</summary>
    AddressInUse,

    /// <summary>The address is not valid for this operation.</summary>
    InvalidAddress,

    /// <summary>The handshake did not complete in time.</summary>
    ConnectionTimeout,

    /// <summary>The peer could not be reached.</summary>
    HostUnreachable,

    /// <summary>The peer refused the connection (CONNECTION_REFUSED).</summary>
    ConnectionRefused,

    /// <summary>The peer does not speak QUIC version 1.</summary>
    VersionNegotiationError,

    /// <summary>The connection was idle for longer than the idle timeout.</summary>
    ConnectionIdle,

    /// <summary>The operation was abandoned because the connection, stream or endpoint was closed locally.</summary>
    OperationAborted,

    /// <summary>A transport-level protocol error, local or from the peer (see <see cref="QuicException.TransportErrorCode"/>).</summary>
    TransportError,

    /// <summary>A user callback (options or certificate selection) threw.</summary>
    CallbackError,
}
