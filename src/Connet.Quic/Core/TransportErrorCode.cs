namespace Connet.Quic.Core;

/// <summary>Transport error codes of RFC 9000 §20.1. TLS alerts map to <c>CryptoErrorBase + alert</c>.</summary>
internal enum TransportErrorCode : ulong
{
    NoError = 0x00,
    InternalError = 0x01,
    ConnectionRefused = 0x02,
    FlowControlError = 0x03,
    StreamLimitError = 0x04,
    StreamStateError = 0x05,
    FinalSizeError = 0x06,
    FrameEncodingError = 0x07,
    TransportParameterError = 0x08,
    ConnectionIdLimitError = 0x09,
    ProtocolViolation = 0x0a,
    InvalidToken = 0x0b,
    ApplicationError = 0x0c,
    CryptoBufferExceeded = 0x0d,
    KeyUpdateError = 0x0e,
    AeadLimitReached = 0x0f,
    NoViablePath = 0x10,
    CryptoErrorBase = 0x100,
}

/// <summary>
/// Thrown inside the protocol core when the peer violated the protocol. The connection catches it and closes with
/// CONNECTION_CLOSE carrying <see cref="Code"/>, <see cref="FrameType"/> and <see cref="Reason"/>; it never leaves the core.
/// </summary>
internal sealed class QuicProtocolException : Exception
{
    public QuicProtocolException(TransportErrorCode code, string reason, ulong frameType = 0)
        : base($"{code}: {reason}")
    {
        Code = code;
        Reason = reason;
        FrameType = frameType;
    }

    public TransportErrorCode Code { get; }

    public ulong FrameType { get; }

    public string Reason { get; }

    /// <summary>A TLS alert (RFC 9001 §4.8): CRYPTO_ERROR 0x100 + alert description.</summary>
    public static QuicProtocolException FromTlsAlert(byte alert, string reason) =>
        new((TransportErrorCode)(0x100UL + alert), reason);
}
