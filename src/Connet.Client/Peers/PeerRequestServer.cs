using Connet.Client.Tunnels;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.Peer;
using Connet.Core.Runtime;
using Connet.Core.Tunnels;
using Connet.Quic;
using Microsoft.Extensions.Logging;

namespace Connet.Client.Peers;

/// <summary>
/// Serves the streams a remote peer opens on a direct connection: answers the connection check (empty
/// <c>Request</c> → empty <c>Response</c>) and, on the destination side, <c>Request.Connect</c> by dialing the
/// destination target and splicing. Without a target (a source endpoint) connect requests get DestinationNotFound.
/// Every stream task is owned here and ends on disposal.
/// </summary>
internal sealed partial class PeerRequestServer : IAsyncDisposable
{
    private readonly Func<CancellationToken, ValueTask<Stream>>? _dialTarget;
    private readonly RelayEncryptionSettings? _relayEncryption;
    private readonly ProxyProtoVersion _proxyProtocol;
    private readonly ILogger _logger;
    private readonly TimeSpan _requestTimeout;
    private readonly BackgroundTasks _tasks = new();

    /// <param name="dialTarget">Connects to the destination target (e.g. <see cref="TcpDestination.Dialer"/>); null on a source.</param>
    /// <param name="relayEncryption">How a destination negotiates encryption on streams arriving through relays; without it, relayed connects are refused.</param>
    /// <param name="proxyProtocol">The PROXY header a destination asks sources to write before the tunnelled bytes (answered in every <c>Response.Connect</c>).</param>
    public PeerRequestServer(
        Func<CancellationToken, ValueTask<Stream>>? dialTarget,
        ILogger? logger = null,
        TimeSpan? requestTimeout = null,
        RelayEncryptionSettings? relayEncryption = null,
        ConnetProxyProtocol proxyProtocol = ConnetProxyProtocol.None)
    {
        if (!Enum.IsDefined(proxyProtocol))
        {
            throw new ArgumentOutOfRangeException(nameof(proxyProtocol), proxyProtocol, "Not a PROXY protocol version.");
        }

        _dialTarget = dialTarget;
        _proxyProtocol = (ProxyProtoVersion)proxyProtocol;
        _relayEncryption = relayEncryption;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _requestTimeout = requestTimeout ?? DirectPeerOptions.DefaultRequestTimeout;
    }

    /// <summary>Raised once per served connection when its stream accept loop ends (the connection closed or this server stopped).</summary>
    public event Action<PeerConnection>? ConnectionEnded;

    /// <summary>Number of connections and streams being served (for tests and status).</summary>
    public int ActiveCount => _tasks.Count;

    /// <summary>Starts accepting streams on <paramref name="peer"/> until it closes or this server is disposed.</summary>
    public void Serve(PeerConnection peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        _tasks.Run(stopping => AcceptStreamsAsync(peer, stopping));
    }

    public ValueTask DisposeAsync() => _tasks.DisposeAsync();

    private async Task AcceptStreamsAsync(PeerConnection peer, CancellationToken stopping)
    {
        try
        {
            while (true)
            {
                QuicStream stream = await peer.Connection.AcceptInboundStreamAsync(stopping).ConfigureAwait(false);
                if (!_tasks.Run(token => HandleStreamAsync(peer, stream, token)))
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception exception) when (exception is QuicException or ObjectDisposedException)
        {
            Log.ConnectionEnded(_logger, peer.ToString(), exception.Message);
        }
        finally
        {
            ConnectionEnded?.Invoke(peer);
        }
    }

    private async Task HandleStreamAsync(PeerConnection peer, QuicStream stream, CancellationToken stopping)
    {
        Stream? target = null;
        RelayEncryption.DestinationUpgrade? upgrade = null;
        try
        {
            Request? request;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping))
            {
                timeout.CancelAfter(_requestTimeout);
                request = await MessageFraming.ReadAsync<Request>(stream, peer.WireVersion, timeout.Token).ConfigureAwait(false);
                if (request is null)
                {
                    return;
                }

                if (request.Connect is null)
                {
                    // The direct connection check.
                    await MessageFraming.WriteAsync(stream, new Response(), peer.WireVersion, timeout.Token).ConfigureAwait(false);
                    stream.CompleteWrites();
                    return;
                }

                if (_dialTarget is null)
                {
                    await ReplyErrorAsync(stream, peer, ConnetErrorCode.DestinationNotFound, "this peer is not a destination", timeout.Token).ConfigureAwait(false);
                    return;
                }

                if (peer.Direction == PeerConnectionDirection.Relay)
                {
                    if (_relayEncryption is null)
                    {
                        await ReplyErrorAsync(stream, peer, ConnetErrorCode.DestinationRelayEncryptionError, "this destination takes no relayed connections", timeout.Token).ConfigureAwait(false);
                        return;
                    }

                    try
                    {
                        upgrade = RelayEncryption.NegotiateDestination(request.Connect, _relayEncryption);
                    }
                    catch (ConnetProtocolException exception)
                    {
                        Log.RelayEncryptionRefused(_logger, peer.ToString(), exception.Message);
                        await ReplyErrorAsync(stream, peer, exception.Code, exception.Message, timeout.Token).ConfigureAwait(false);
                        return;
                    }
                }
                else if (request.Connect.SourceEncryption.Any(scheme => scheme != RelayEncryptionScheme.EncryptionNone))
                {
                    // Direct paths are already end-to-end TLS; Go connet never offers relay encryption on them.
                    await ReplyErrorAsync(stream, peer, ConnetErrorCode.DestinationRelayEncryptionError, "relay encryption is not used on direct connections", timeout.Token).ConfigureAwait(false);
                    return;
                }
            }

            try
            {
                target = await _dialTarget(stopping).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                Log.TargetDialFailed(_logger, peer.ToString(), exception.Message);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                timeout.CancelAfter(_requestTimeout);
                await ReplyErrorAsync(stream, peer, ConnetErrorCode.DestinationDialFailed, $"cannot dial the destination target: {exception.Message}", timeout.Token).ConfigureAwait(false);
                return;
            }

            Response.Types.Connect answer = upgrade?.Answer ?? new Response.Types.Connect();
            answer.ProxyProto = _proxyProtocol;
            await MessageFraming.WriteAsync(stream, new Response { Connect = answer }, peer.WireVersion, stopping).ConfigureAwait(false);
            Stream tunnel = upgrade is null ? stream : await upgrade.UpgradeAsync(stream, stopping).ConfigureAwait(false);
            Stream splicedTarget = target;
            target = null; // The splicer owns both streams from here.
            await StreamSplicer.SpliceAsync(tunnel, splicedTarget, stopping).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is QuicException or ConnetProtocolException or IOException or OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            if (!stopping.IsCancellationRequested)
            {
                Log.StreamFailed(_logger, peer.ToString(), exception.Message);
            }

            StreamSplicer.Abort(stream);
        }
        finally
        {
            if (target is not null)
            {
                await target.DisposeAsync().ConfigureAwait(false);
            }

            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async ValueTask ReplyErrorAsync(QuicStream stream, PeerConnection peer, ConnetErrorCode code, string message, CancellationToken cancellationToken)
    {
        await MessageFraming.WriteAsync(stream, new Response { Error = ConnetError.ToWireError(code, message) }, peer.WireVersion, cancellationToken).ConfigureAwait(false);
        stream.CompleteWrites();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Direct connection {Peer} ended: {Reason}")]
        public static partial void ConnectionEnded(ILogger logger, string peer, string reason);

        [LoggerMessage(2, LogLevel.Warning, "Destination target dial for {Peer} failed: {Reason}")]
        public static partial void TargetDialFailed(ILogger logger, string peer, string reason);

        [LoggerMessage(3, LogLevel.Debug, "Tunnel stream from {Peer} failed: {Reason}")]
        public static partial void StreamFailed(ILogger logger, string peer, string reason);

        [LoggerMessage(4, LogLevel.Warning, "Relayed tunnel via {Peer} refused: {Reason}")]
        public static partial void RelayEncryptionRefused(ILogger logger, string peer, string reason);
    }
}
