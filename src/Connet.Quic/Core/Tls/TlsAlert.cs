namespace Connet.Quic.Core.Tls;

/// <summary>TLS alert descriptions (RFC 8446 §6) the handshake raises; QUIC carries them as CRYPTO_ERROR 0x100+alert.</summary>
internal static class TlsAlert
{
    public const byte UnexpectedMessage = 10;
    public const byte HandshakeFailure = 40;
    public const byte BadCertificate = 42;
    public const byte UnsupportedCertificate = 43;
    public const byte CertificateUnknown = 46;
    public const byte IllegalParameter = 47;
    public const byte DecodeError = 50;
    public const byte DecryptError = 51;
    public const byte ProtocolVersion = 70;
    public const byte InternalError = 80;
    public const byte MissingExtension = 109;
    public const byte UnsupportedExtension = 110;
    public const byte CertificateRequired = 116;
    public const byte NoApplicationProtocol = 120;

    public static QuicProtocolException Error(byte alert, string reason) => QuicProtocolException.FromTlsAlert(alert, reason);

    public static QuicProtocolException Decode(string what) => Error(DecodeError, $"Malformed TLS handshake: {what}.");
}
