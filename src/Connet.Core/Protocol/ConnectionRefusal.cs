using Connet.Quic;
using Google.Protobuf;

namespace Connet.Core.Protocol;

/// <summary>
/// How a server turns a peer away on its authentication stream (control for clients and relays, a relay for clients),
/// and how it closes a connection without caring whether the peer is still there.
/// </summary>
public static class ConnectionRefusal
{
    /// <summary>How long a refusal or a close waits for the peer to acknowledge before giving up on it.</summary>
    public static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a refused peer has to read the reason and close first.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    /// <summary>How many streams a refused peer may open during its grace before we stop looking at them.</summary>
    private const int MaxStreamsDuringGrace = 16;

    /// <summary>
    /// Writes <paramref name="response"/> (carrying the error) on <paramref name="stream"/>, waits until it is
    /// acknowledged, gives the peer <see cref="Grace"/> to close by itself, then closes with
    /// <see cref="ConnetErrorCode.AuthenticationFailed"/>.
    /// </summary>
    /// <remarks>
    /// A QUIC close fails the peer's pending reads even when the response already sits in its receive buffer
    /// (System.Net.Quic behaves the same), so closing as soon as the response is acknowledged can hide the reason.
    /// Go connet peers close on their own once they read an authentication error; ours too.
    /// </remarks>
    public static async Task RefuseAsync(QuicConnection connection, QuicStream stream, IMessage response, WireVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(response);
        try
        {
            await MessageFraming.WriteAsync(stream, response, version, cancellationToken).ConfigureAwait(false);
            stream.CompleteWrites();
            await stream.WritesClosed.WaitAsync(FlushTimeout, cancellationToken).ConfigureAwait(false);
            await WaitForPeerCloseAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception failed) when (failed is QuicException or OperationCanceledException or TimeoutException or ConnetProtocolException or ObjectDisposedException)
        {
            // The close below still tells the peer why.
        }

        await CloseQuietlyAsync(connection, ConnetErrorCode.AuthenticationFailed).ConfigureAwait(false);
    }

    /// <summary>Closes with <paramref name="code"/>, waiting at most <see cref="FlushTimeout"/>; a peer already gone is fine.</summary>
    public static async Task CloseQuietlyAsync(QuicConnection connection, ConnetErrorCode code)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            await connection.CloseAsync((long)code).AsTask().WaitAsync(FlushTimeout).ConfigureAwait(false);
        }
        catch (Exception failed) when (failed is QuicException or TimeoutException or ObjectDisposedException or OperationCanceledException)
        {
            // Already closed or unresponsive: disposal abandons it.
        }
    }

    /// <summary>Returns when the peer closes or after <see cref="Grace"/>; streams it opens meanwhile are refused.</summary>
    private static async Task WaitForPeerCloseAsync(QuicConnection connection, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Grace);
        try
        {
            // Bounded by the deadline; the count bound only guards against a peer flooding streams.
            for (int refused = 0; refused < MaxStreamsDuringGrace; refused++)
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync(deadline.Token).ConfigureAwait(false);
                stream.Abort(QuicAbortDirection.Both, (long)ConnetErrorCode.AuthenticationFailed);
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception done) when (done is QuicException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer closed, or the grace is over.
        }
    }
}
