using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Core.Runtime;
using Connet.Quic;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Connet.Client.Peers;

/// <summary>
/// Accepts direct peer connections on the client's shared <see cref="QuicEndpoint"/> (connet-protocol.md §2.4
/// "Direct", incoming side). Each local endpoint registers its <see cref="PeerCertificates"/>; the server certificate
/// is chosen by SNI among them, a client certificate is required and must be exactly one registered as expected for
/// that local endpoint (<see cref="PeerCertificates.VerifyPinned"/>). Accepted connections are served by the local
/// endpoint's <see cref="PeerRequestServer"/> (check and connect requests) and reported to <see cref="ConnectionAccepted"/>.
/// </summary>
/// <remarks>
/// Usage: create, call <see cref="ConfigureEndpoint"/> on the options before <see cref="QuicEndpoint.Bind"/>, then
/// <see cref="Start"/> with the bound endpoint. Disposal stops accepting and ends every served connection's tasks; the
/// connections themselves close with the endpoint.
/// </remarks>
internal sealed partial class DirectPeerServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, LocalEndpoint> _byServerName = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger;
    private readonly TimeSpan _handshakeTimeout;
    private readonly BackgroundTasks _tasks = new();
    private int _started;

    public DirectPeerServer(ILogger? logger = null, TimeSpan? handshakeTimeout = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _handshakeTimeout = handshakeTimeout ?? DirectPeerOptions.DefaultHandshakeTimeout;
    }

    /// <summary>Raised (on the accept loop) for each incoming connection that passed authentication.</summary>
    public event Action<PeerConnection>? ConnectionAccepted;

    /// <summary>Makes <paramref name="options"/> accept peer connections through this server (ALPN connet-peer/0.2, then 0.1).</summary>
    public void ConfigureEndpoint(QuicEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.PeerToPeer);
        options.ServerConnectionOptions = null;
        options.ConnectionOptionsCallback = (_, hello, _) => ValueTask.FromResult(ServerOptionsFor(hello.ServerName));
    }

    /// <summary>
    /// Serves a local endpoint: its server certificate answers SNI <see cref="PeerCertificates.ServerName"/>;
    /// <paramref name="requests"/> serves the streams of its accepted connections.
    /// </summary>
    public void AddLocal(PeerCertificates local, PeerRequestServer requests)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(requests);
        if (!_byServerName.TryAdd(local.ServerName, new LocalEndpoint(local, requests)))
        {
            throw new InvalidOperationException($"A local endpoint with server name {local.ServerName} is already registered.");
        }
    }

    public bool RemoveLocal(PeerCertificates local)
    {
        ArgumentNullException.ThrowIfNull(local);
        return _byServerName.TryRemove(local.ServerName, out _);
    }

    /// <summary>Accept connections to <paramref name="local"/> presenting exactly <paramref name="remoteClient"/> (a remote peer's client certificate).</summary>
    public void ExpectClient(PeerCertificates local, X509Certificate2 remoteClient)
    {
        ArgumentNullException.ThrowIfNull(remoteClient);
        Find(local).ExpectedClients[CertificateKey.Compute(remoteClient.RawData)] = remoteClient;
    }

    public bool ForgetClient(PeerCertificates local, X509Certificate2 remoteClient)
    {
        ArgumentNullException.ThrowIfNull(remoteClient);
        return Find(local).ExpectedClients.TryRemove(CertificateKey.Compute(remoteClient.RawData), out _);
    }

    /// <summary>Starts the accept loop on <paramref name="endpoint"/> (bound with <see cref="ConfigureEndpoint"/>'s options).</summary>
    public void Start(QuicEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The direct peer server is already started.");
        }

        _tasks.Run(stopping => AcceptAsync(endpoint, stopping));
    }

    public ValueTask DisposeAsync() => _tasks.DisposeAsync();

    private LocalEndpoint Find(PeerCertificates local)
    {
        ArgumentNullException.ThrowIfNull(local);
        return _byServerName.TryGetValue(local.ServerName, out var found)
            ? found
            : throw new InvalidOperationException($"No local endpoint with server name {local.ServerName} is registered.");
    }

    private QuicServerConnectionOptions ServerOptionsFor(string? serverName)
    {
        SslServerAuthenticationOptions authentication;
        if (serverName is not null && _byServerName.TryGetValue(serverName, out var local))
        {
            authentication = new SslServerAuthenticationOptions
            {
                ServerCertificateSelectionCallback = (_, _) => local.Certificates.Server,
                ClientCertificateRequired = true,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => local.AcceptsClient(certificate, _logger),
            };
        }
        else
        {
            // No certificate for this name: the TLS handshake fails with an alert the client sees at once. (Throwing
            // from the options callback instead would drop the connection silently and leave the client waiting for
            // its handshake timeout.)
            Log.UnknownServerName(_logger, serverName ?? "(none)");
            authentication = new SslServerAuthenticationOptions { ServerCertificateSelectionCallback = (_, _) => null! };
        }

        authentication.ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.PeerToPeer);
        return DirectPeerOptions.Apply(new QuicServerConnectionOptions { ServerAuthenticationOptions = authentication }, _handshakeTimeout);
    }

    private async Task AcceptAsync(QuicEndpoint endpoint, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            QuicConnection connection;
            try
            {
                connection = await endpoint.AcceptConnectionAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (QuicException exception) when (exception.QuicError == QuicError.OperationAborted)
            {
                return; // The endpoint was disposed.
            }
            catch (QuicException exception)
            {
                Log.AcceptFailed(_logger, exception.Message);
                continue;
            }

            if (!TryAdopt(connection, out var peer, out var local))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                continue;
            }

            Log.Accepted(_logger, peer.ToString());
            local.Requests.Serve(peer);
            try
            {
                ConnectionAccepted?.Invoke(peer);
            }
            catch (Exception exception)
            {
                // A faulty subscriber must not stop the accept loop for every other peer.
                Log.SubscriberFailed(_logger, peer.ToString(), exception);
            }
        }
    }

    private bool TryAdopt(QuicConnection connection, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PeerConnection? peer, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LocalEndpoint? local)
    {
        peer = null;
        local = null;
        if (!_byServerName.TryGetValue(connection.TargetHostName, out local)
            || connection.RemoteCertificate is not { } remoteCertificate
            || !ConnetAlpns.TryGetWireVersion(ConnetConnectionKind.PeerToPeer, connection.NegotiatedApplicationProtocol.Protocol.Span, out var wireVersion))
        {
            // The local endpoint went away during the handshake, or the handshake did not produce what was required.
            Log.Dropped(_logger, connection.RemoteEndPoint.ToString(), connection.TargetHostName);
            return false;
        }

        peer = new PeerConnection(connection, PeerConnectionDirection.Incoming, CertificateKey.Compute(remoteCertificate.GetRawCertData()), wireVersion);
        return true;
    }

    private sealed record LocalEndpoint(PeerCertificates Certificates, PeerRequestServer Requests)
    {
        public ConcurrentDictionary<string, X509Certificate2> ExpectedClients { get; } = new(StringComparer.Ordinal);

        public bool AcceptsClient(X509Certificate? presented, ILogger logger)
        {
            if (presented is not X509Certificate2 certificate)
            {
                Log.ClientRejected(logger, Certificates.ServerName, "no client certificate");
                return false;
            }

            string key = CertificateKey.Compute(certificate.RawData);
            if (!ExpectedClients.TryGetValue(key, out var pinned))
            {
                Log.ClientRejected(logger, Certificates.ServerName, $"client certificate {key} is not expected");
                return false;
            }

            if (!PeerCertificates.VerifyPinned(certificate, pinned, PeerCertificates.ClientAuthentication, out string? failure))
            {
                Log.ClientRejected(logger, Certificates.ServerName, failure ?? "pin verification failed");
                return false;
            }

            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Accepted direct connection {Peer}")]
        public static partial void Accepted(ILogger logger, string peer);

        [LoggerMessage(2, LogLevel.Warning, "Rejected a direct peer client for {ServerName}: {Reason}")]
        public static partial void ClientRejected(ILogger logger, string serverName, string reason);

        [LoggerMessage(3, LogLevel.Debug, "Refused a direct connection for unknown server name {ServerName}")]
        public static partial void UnknownServerName(ILogger logger, string serverName);

        [LoggerMessage(4, LogLevel.Debug, "Accepting a direct connection failed: {Reason}")]
        public static partial void AcceptFailed(ILogger logger, string reason);

        [LoggerMessage(6, LogLevel.Error, "A ConnectionAccepted subscriber failed for {Peer}")]
        public static partial void SubscriberFailed(ILogger logger, string peer, Exception exception);

        [LoggerMessage(5, LogLevel.Debug, "Dropped a direct connection from {Remote} for {ServerName}: its local endpoint is gone")]
        public static partial void Dropped(ILogger logger, string remote, string serverName);
    }
}
