using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.Peer;
using Connet.Quic;

namespace Connet.Client.Peers;

/// <summary>
/// The source side of connet-protocol.md §2.4 "Source→destination, direct": one new bidirectional stream per
/// tunnelled connection, a <c>Request.Connect</c> without encryption fields, then the destination's
/// <c>Response</c>; raw bytes follow on success.
/// </summary>
internal static class PeerTunnel
{
    /// <summary>Opens a tunnel to the destination served on <paramref name="peer"/>; returns the stream for raw bytes.</summary>
    /// <exception cref="ConnetProtocolException">The destination answered with an error (e.g. DestinationDialFailed) or broke the exchange.</exception>
    /// <exception cref="QuicException">The connection is closed or failed.</exception>
    public static async ValueTask<QuicStream> OpenAsync(PeerConnection peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        QuicStream stream = await peer.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        try
        {
            var request = new Request { Connect = new Request.Types.Connect() };
            await MessageFraming.WriteAsync(stream, request, peer.WireVersion, cancellationToken).ConfigureAwait(false);
            Response response = await MessageFraming.ReadAsync<Response>(stream, peer.WireVersion, cancellationToken).ConfigureAwait(false)
                ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"{peer} closed the tunnel stream without answering the connect request");
            ConnetError.ThrowIfSet(response.Error);
            if (response.Connect is null)
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"{peer} answered the connect request with neither connect nor error");
            }

            if (response.Connect.ProxyProto != ProxyProtoVersion.ProxyProtoNone)
            {
                // The source would have to write a PROXY header first; not supported yet, so refuse rather than corrupt the stream.
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"{peer} asks for PROXY protocol {response.Connect.ProxyProto}, which this source does not write");
            }

            return stream;
        }
        catch
        {
            stream.Abort(QuicAbortDirection.Both, (long)ConnetErrorCode.Unknown);
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The direct connection check (connet-protocol.md §2.4 "Direct"): an empty <c>Request</c> on a new stream,
    /// answered by an empty <c>Response</c>.
    /// </summary>
    /// <exception cref="ConnetProtocolException">The peer answered with an error or did not answer.</exception>
    public static async ValueTask CheckAsync(QuicConnection connection, WireVersion wireVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        await MessageFraming.WriteAsync(stream, new Request(), wireVersion, cancellationToken).ConfigureAwait(false);
        stream.CompleteWrites();
        Response response = await MessageFraming.ReadAsync<Response>(stream, wireVersion, cancellationToken).ConfigureAwait(false)
            ?? throw new ConnetProtocolException(ConnetErrorCode.ConnectionCheckFailed, "the peer closed the check stream without answering");
        ConnetError.ThrowIfSet(response.Error);
    }
}
