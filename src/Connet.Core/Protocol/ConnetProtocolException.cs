namespace Connet.Core.Protocol;

/// <summary>
/// A connet protocol failure: an <see cref="Wire.Error"/> received from the peer, a QUIC application
/// error carrying a connet code, or a local framing violation (reported as <see cref="ConnetErrorCode.Unknown"/>).
/// </summary>
public sealed class ConnetProtocolException : Exception
{
    public ConnetProtocolException(ConnetErrorCode code, string message)
        : this(code, message, null)
    {
    }

    public ConnetProtocolException(ConnetErrorCode code, string message, Exception? innerException)
        : base(FormatMessage(code, message), innerException)
    {
        Code = code;
        ErrorMessage = message ?? string.Empty;
    }

    public ConnetErrorCode Code { get; }

    /// <summary>The message as it travels on the wire, without the code's description that <see cref="Exception.Message"/> adds.</summary>
    public string ErrorMessage { get; }

    private static string FormatMessage(ConnetErrorCode code, string? message) =>
        string.IsNullOrEmpty(message)
            ? $"{code.Describe()} ({(int)code})"
            : $"{code.Describe()} ({(int)code}): {message}";
}
