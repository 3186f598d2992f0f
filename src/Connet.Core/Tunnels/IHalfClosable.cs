namespace Connet.Core.Tunnels;

/// <summary>
/// A stream layered over a transport (e.g. TLS or dhxcp over a QUIC stream) that can end one direction while the
/// other keeps flowing, so <see cref="StreamSplicer"/> can pass a half-close through it.
/// </summary>
public interface IHalfClosable
{
    /// <summary>Sends the end of our direction after everything written so far (e.g. TLS close_notify, then FIN).</summary>
    ValueTask CompleteWritesAsync(CancellationToken cancellationToken);

    /// <summary>Abandons the stream abruptly in both directions.</summary>
    void Abort();
}
