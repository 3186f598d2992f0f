using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Quic;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Connet.Client.Peers;

/// <summary>
/// Dials remote peers' direct servers from the client's shared <see cref="QuicEndpoint"/> (connet-protocol.md §2.4
/// "Direct", outgoing side): each remote address in turn, SNI = the remote server certificate's DNS name, that exact
/// certificate pinned, our client certificate presented; then the connection check. Dialing from the socket we accept
/// on is what makes simultaneous open (hole punching) work.
/// </summary>
internal sealed partial class DirectPeerDialer
{
    private readonly QuicEndpoint _endpoint;
    private readonly ILogger _logger;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TimeSpan _checkTimeout;

    public DirectPeerDialer(QuicEndpoint endpoint, ILogger? logger = null, TimeSpan? handshakeTimeout = null, TimeSpan? checkTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint;
        _logger = logger ?? NullLogger.Instance;
        _handshakeTimeout = handshakeTimeout ?? DirectPeerOptions.DefaultHandshakeTimeout;
        _checkTimeout = checkTimeout ?? DirectPeerOptions.DefaultRequestTimeout;
    }

    /// <summary>Connects to the first of <paramref name="remoteAddresses"/> that completes the handshake and the check.</summary>
    /// <param name="local">Our endpoint's certificates; its client certificate is presented.</param>
    /// <param name="remoteServer">The remote peer's server leaf, as announced: pinned exactly, and its DNS name is the SNI.</param>
    /// <exception cref="ConnetProtocolException">ConnectionCheckFailed, naming every address tried and why it failed.</exception>
    public async ValueTask<PeerConnection> DialAsync(
        PeerCertificates local,
        X509Certificate2 remoteServer,
        IReadOnlyList<IPEndPoint> remoteAddresses,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remoteServer);
        ArgumentNullException.ThrowIfNull(remoteAddresses);
        if (remoteAddresses.Count == 0)
        {
            throw new ArgumentException("At least one remote address is required.", nameof(remoteAddresses));
        }

        string remoteKey = CertificateKey.Compute(remoteServer.RawData);
        var failures = new StringBuilder();
        Exception? lastFailure = null;
        foreach (IPEndPoint address in remoteAddresses)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await DialOneAsync(local, remoteServer, remoteKey, address, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is QuicException or ConnetProtocolException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Log.DialFailed(_logger, remoteKey, address.ToString(), exception.Message);
                failures.Append(failures.Length == 0 ? string.Empty : "; ").Append(address).Append(": ").Append(exception.Message);
                lastFailure = exception;
            }
        }

        throw new ConnetProtocolException(ConnetErrorCode.ConnectionCheckFailed, $"cannot connect directly to peer {remoteKey}: {failures}", lastFailure);
    }

    private async Task<PeerConnection> DialOneAsync(PeerCertificates local, X509Certificate2 remoteServer, string remoteKey, IPEndPoint address, CancellationToken cancellationToken)
    {
        string? pinFailure = null;
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = remoteServer.GetNameInfo(X509NameType.DnsName, forIssuer: false),
            ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.PeerToPeer),
            ClientCertificates = [local.Client],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is not X509Certificate2 presented)
                {
                    pinFailure = "no server certificate";
                    return false;
                }

                return PeerCertificates.VerifyPinned(presented, remoteServer, PeerCertificates.ServerAuthentication, out pinFailure);
            },
        };
        var options = DirectPeerOptions.Apply(new QuicClientConnectionOptions { RemoteEndPoint = address, ClientAuthenticationOptions = authentication }, _handshakeTimeout);

        QuicConnection connection;
        try
        {
            connection = await _endpoint.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException exception) when (pinFailure is not null)
        {
            throw new ConnetProtocolException(ConnetErrorCode.ConnectionCheckFailed, $"the server certificate is not the pinned one: {pinFailure}", exception);
        }

        try
        {
            var wireVersion = ConnetAlpns.GetWireVersion(ConnetConnectionKind.PeerToPeer, connection.NegotiatedApplicationProtocol);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_checkTimeout);
                try
                {
                    await PeerTunnel.CheckAsync(connection, wireVersion, timeout.Token).ConfigureAwait(false);
                }
                catch (QuicException exception)
                {
                    // In TLS 1.3 the server judges our client certificate after our handshake completed, so its
                    // refusal surfaces here, on the first stream.
                    throw new ConnetProtocolException(ConnetErrorCode.ConnectionCheckFailed, $"the peer refused the connection check: {exception.Message}", exception);
                }
            }

            var peer = new PeerConnection(connection, PeerConnectionDirection.Outgoing, remoteKey, wireVersion);
            Log.Connected(_logger, peer.ToString());
            return peer;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Direct connection {Peer} checked")]
        public static partial void Connected(ILogger logger, string peer);

        [LoggerMessage(2, LogLevel.Debug, "Direct dial to peer {Peer} at {Address} failed: {Reason}")]
        public static partial void DialFailed(ILogger logger, string peer, string address, string reason);
    }
}
