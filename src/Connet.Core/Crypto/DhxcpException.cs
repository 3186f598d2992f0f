namespace Connet.Core.Crypto;

/// <summary>A dhxcp stream or handshake failure: a tampered or truncated record, or an exhausted nonce counter.</summary>
public sealed class DhxcpException : IOException
{
    public DhxcpException()
    {
    }

    public DhxcpException(string message)
        : base(message)
    {
    }

    public DhxcpException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
