using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.Peer;
using Connet.Core.Tunnels;
using Connet.Quic;

namespace Connet.Client.Peers;

/// <summary>
/// The source side of connet-protocol.md §2.4 "Source→destination": one new bidirectional stream per tunnelled
/// connection, a <c>Request.Connect</c> (with our relay encryption offer on relay connections, none on direct ones),
/// then the destination's <c>Response</c>; the bytes that follow are raw, or encrypted as the destination chose.
/// </summary>
internal static class PeerTunnel
{
    /// <summary>Opens a tunnel over a direct connection (see the overload taking relay encryption settings).</summary>
    public static ValueTask<Stream> OpenAsync(PeerConnection peer, CancellationToken cancellationToken) => OpenAsync(peer, null, cancellationToken);

    /// <summary>Opens a tunnel to the destination served on <paramref name="peer"/>; returns the stream for the tunnelled bytes.</summary>
    /// <param name="relayEncryption">Our relay encryption settings; required on relay connections, unused on direct ones.</param>
    /// <exception cref="ConnetProtocolException">The destination (or the relay for it) answered with an error (e.g. DestinationDialFailed) or broke the exchange.</exception>
    /// <exception cref="QuicException">The connection is closed or failed.</exception>
    public static async ValueTask<Stream> OpenAsync(PeerConnection peer, RelayEncryptionSettings? relayEncryption = null, CancellationToken cancellationToken = default)
    {
        (Stream stream, ProxyProtoVersion proxyProtocol) = await OpenWithAnswerAsync(peer, relayEncryption, cancellationToken).ConfigureAwait(false);
        if (proxyProtocol != ProxyProtoVersion.ProxyProtoNone)
        {
            // A caller of this overload writes no PROXY header; refuse rather than corrupt the stream.
            StreamSplicer.Abort(stream);
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"{peer} asks for PROXY protocol {proxyProtocol}, which this caller does not write");
        }

        return stream;
    }

    /// <summary>
    /// Opens a tunnel to the destination served on <paramref name="peer"/>; returns the stream for the tunnelled bytes
    /// and the PROXY protocol header the destination expects in front of them (connet-protocol.md §2.3).
    /// </summary>
    /// <param name="relayEncryption">Our relay encryption settings; required on relay connections, unused on direct ones.</param>
    /// <exception cref="ConnetProtocolException">The destination (or the relay for it) answered with an error (e.g. DestinationDialFailed) or broke the exchange.</exception>
    /// <exception cref="QuicException">The connection is closed or failed.</exception>
    public static async ValueTask<(Stream Stream, ProxyProtoVersion ProxyProtocol)> OpenWithAnswerAsync(PeerConnection peer, RelayEncryptionSettings? relayEncryption = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        RelayEncryption.SourceOffer? offer = null;
        if (peer.Direction == PeerConnectionDirection.Relay)
        {
            offer = RelayEncryption.OfferFromSource(relayEncryption ?? throw new ArgumentNullException(nameof(relayEncryption), "Relay connections need relay encryption settings."));
        }

        QuicStream stream = await peer.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        try
        {
            var request = new Request { Connect = offer?.Request ?? new Request.Types.Connect() };
            await MessageFraming.WriteAsync(stream, request, peer.WireVersion, cancellationToken).ConfigureAwait(false);
            Response response = await MessageFraming.ReadAsync<Response>(stream, peer.WireVersion, cancellationToken).ConfigureAwait(false)
                ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"{peer} closed the tunnel stream without answering the connect request");
            ConnetError.ThrowIfSet(response.Error);
            if (response.Connect is null)
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"{peer} answered the connect request with neither connect nor error");
            }

            if (!Enum.IsDefined(response.Connect.ProxyProto))
            {
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"{peer} asks for an unknown PROXY protocol version {(int)response.Connect.ProxyProto}");
            }

            Stream tunnel = offer is null ? stream : await offer.UpgradeAsync(stream, response.Connect, cancellationToken).ConfigureAwait(false);
            return (tunnel, response.Connect.ProxyProto);
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
