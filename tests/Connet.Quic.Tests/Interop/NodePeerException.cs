namespace Connet.Quic.Tests.Interop;

/// <summary>A node interop peer failed; the message carries what it wrote on stderr.</summary>
public sealed class NodePeerException : Exception
{
    public NodePeerException()
    {
    }

    public NodePeerException(string message)
        : base(message)
    {
    }

    public NodePeerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
