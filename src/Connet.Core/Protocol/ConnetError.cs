using Connet.Quic;
using Connet.Core.Protocol.Wire;

namespace Connet.Core.Protocol;

/// <summary>
/// The error codes of connet's <c>error.proto</c>, with the same numeric values. They travel inside
/// <see cref="Error"/> messages and double as QUIC application close and stream error codes.
/// </summary>
public enum ConnetErrorCode
{
    // Generic
    Unknown = 0,
    RequestUnknown = 1,
    ConnectionCheckFailed = 2,

    // Authentication
    AuthenticationFailed = 100,
    EndpointNotAllowed = 101,
    RoleNotAllowed = 102,

    // Announce
    AnnounceValidationFailed = 200,
    AnnounceInvalidClientCertificate = 201,
    AnnounceInvalidServerCertificate = 202,

    // Relay
    RelayValidationFailed = 300,
    RelayInvalidCertificate = 301,
    RelayKeepaliveClosed = 302,

    // Direct
    DirectConnectionClosed = 400,
    DirectKeepaliveClosed = 401,

    // Source to destination connect
    DestinationNotFound = 500,
    DestinationDialFailed = 501,
    DestinationRelayEncryptionError = 502,
}

/// <summary>Descriptions of <see cref="ConnetErrorCode"/> and the mapping between wire errors and exceptions.</summary>
public static class ConnetError
{
    /// <summary>A short human-readable description of the code; unknown values (from newer peers) say so with their number.</summary>
    public static string Describe(this ConnetErrorCode code) => code switch
    {
        ConnetErrorCode.Unknown => "unknown error",
        ConnetErrorCode.RequestUnknown => "unknown request",
        ConnetErrorCode.ConnectionCheckFailed => "connection check failed",
        ConnetErrorCode.AuthenticationFailed => "authentication failed",
        ConnetErrorCode.EndpointNotAllowed => "endpoint not allowed",
        ConnetErrorCode.RoleNotAllowed => "role not allowed",
        ConnetErrorCode.AnnounceValidationFailed => "announce validation failed",
        ConnetErrorCode.AnnounceInvalidClientCertificate => "announce has an invalid client certificate",
        ConnetErrorCode.AnnounceInvalidServerCertificate => "announce has an invalid server certificate",
        ConnetErrorCode.RelayValidationFailed => "relay validation failed",
        ConnetErrorCode.RelayInvalidCertificate => "relay has an invalid certificate",
        ConnetErrorCode.RelayKeepaliveClosed => "relay keepalive closed",
        ConnetErrorCode.DirectConnectionClosed => "direct connection closed",
        ConnetErrorCode.DirectKeepaliveClosed => "direct keepalive closed",
        ConnetErrorCode.DestinationNotFound => "destination not found",
        ConnetErrorCode.DestinationDialFailed => "destination dial failed",
        ConnetErrorCode.DestinationRelayEncryptionError => "destination relay encryption error",
        _ => $"unrecognised error code {(int)code}",
    };

    /// <summary>Builds a wire <see cref="Error"/> carrying <paramref name="code"/> and <paramref name="message"/>.</summary>
    public static Error ToWireError(ConnetErrorCode code, string message) =>
        new() { Code = (Code)code, Message = message ?? string.Empty };

    /// <summary>The wire form of an exception, e.g. to put in a response's <c>error</c> field.</summary>
    public static Error ToWireError(this ConnetProtocolException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return ToWireError(exception.Code, exception.ErrorMessage);
    }

    /// <summary>The exception for a wire <see cref="Error"/> received from the peer.</summary>
    public static ConnetProtocolException ToException(this Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new ConnetProtocolException((ConnetErrorCode)error.Code, error.Message);
    }

    /// <summary>
    /// Throws the exception for <paramref name="error"/> when it is set. Responses carry an optional
    /// <c>error</c> field whose absence (null) means success.
    /// </summary>
    public static void ThrowIfSet(Error? error)
    {
        if (error is not null)
        {
            throw error.ToException();
        }
    }

    /// <summary>
    /// Maps a QUIC failure that carries an application error code (the peer closed the connection or
    /// aborted the stream with a connet code) to the connet error it stands for, as Go connet does for
    /// stream reads and writes. Other QUIC failures give null.
    /// </summary>
    public static ConnetProtocolException? FromApplicationError(QuicException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.ApplicationErrorCode is not long applicationCode
            || exception.QuicError is not (QuicError.ConnectionAborted or QuicError.StreamAborted))
        {
            return null;
        }

        // Codes outside the int range cannot be connet codes; keep them visible as Unknown.
        var code = applicationCode is >= 0 and <= int.MaxValue ? (ConnetErrorCode)(int)applicationCode : ConnetErrorCode.Unknown;
        return new ConnetProtocolException(code, exception.Message, exception);
    }
}
