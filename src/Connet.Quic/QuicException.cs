namespace Connet.Quic;

/// <summary>A QUIC failure, carrying the application or transport error code that caused it when there is one.</summary>
public sealed class QuicException : IOException
{
    public QuicException(QuicError error, long? applicationErrorCode, string message)
        : this(error, applicationErrorCode, null, message, null)
    {
    }

    public QuicException(QuicError error, long? applicationErrorCode, string message, Exception? innerException)
        : this(error, applicationErrorCode, null, message, innerException)
    {
    }

    internal QuicException(QuicError error, long? applicationErrorCode, long? transportErrorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        QuicError = error;
        ApplicationErrorCode = applicationErrorCode;
        TransportErrorCode = transportErrorCode;
    }

    public QuicError QuicError { get; }

    /// <summary>The application protocol's error code, for <see cref="QuicError.ConnectionAborted"/> and <see cref="QuicError.StreamAborted"/>.</summary>
    public long? ApplicationErrorCode { get; }

    /// <summary>The RFC 9000 transport error code (0x100+alert for TLS), for <see cref="QuicError.TransportError"/> and refusals.</summary>
    public long? TransportErrorCode { get; }

    internal static QuicException OperationAborted(string what) =>
        new(QuicError.OperationAborted, null, null, $"The operation was aborted because the {what} was closed locally.");
}
