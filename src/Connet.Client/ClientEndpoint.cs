using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Client.Peers;
using Connet.Client.Tunnels;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;
using Connet.Core.Runtime;
using Connet.Quic;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Connet.Client;

/// <summary>
/// One configured destination or source: its fresh certificates, its announce stream, the remote peers control
/// announced (each with a dial loop while announced) and the set of live direct connections in both directions.
/// </summary>
internal sealed partial class ClientEndpoint : IAsyncDisposable
{
    private readonly ConnetEndpointOptions _options;
    private readonly DirectPeerServer _directServer;
    private readonly DirectPeerDialer _dialer;
    private readonly QuicEndpoint _quicEndpoint;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly PeerRequestServer _requests;
    private readonly BackgroundTasks _tasks = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, RemotePeerState> _remotes = new(StringComparer.Ordinal);
    private readonly Dictionary<PeerConnection, TaskCompletionSource> _live = [];
    private readonly HashSet<PeerConnection> _endedBeforeAdoption = [];
    private TcpSource? _source;
    private IPEndPoint? _sourceAddress;

    public ClientEndpoint(
        string name,
        ConnetEndpointRole role,
        ConnetEndpointOptions options,
        DirectPeerServer directServer,
        DirectPeerDialer dialer,
        QuicEndpoint quicEndpoint,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory)
    {
        Name = name;
        Role = role;
        _options = options;
        _directServer = directServer;
        _dialer = dialer;
        _quicEndpoint = quicEndpoint;
        _timeProvider = timeProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ClientEndpoint>();
        Certificates = PeerCertificates.Create(timeProvider);
        _requests = new PeerRequestServer(
            role == ConnetEndpointRole.Destination ? TcpDestination.Dialer(options.Url) : null,
            loggerFactory.CreateLogger<PeerRequestServer>());
        _requests.ConnectionEnded += OnConnectionEnded;
        directServer.AddLocal(Certificates, _requests);
    }

    public string Name { get; }

    public ConnetEndpointRole Role { get; }

    public PeerCertificates Certificates { get; }

    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        if (Role == ConnetEndpointRole.Source)
        {
            _source = await TcpSource.StartAsync(_options.Url, LiveConnections, _loggerFactory.CreateLogger<TcpSource>(), cancellationToken: cancellationToken).ConfigureAwait(false);

            // Kept: the listener's socket cannot say where it was bound once disposed, and status must still work then.
            _sourceAddress = _source.LocalEndPoint;
        }
    }

    /// <summary>The direct connections usable right now, in both directions.</summary>
    public IReadOnlyCollection<PeerConnection> LiveConnections()
    {
        lock (_lock)
        {
            return [.. _live.Keys];
        }
    }

    public ConnetEndpointStatus GetStatus()
    {
        lock (_lock)
        {
            var peers = _remotes.Values.Select(remote => new ConnetPeerStatus(
                remote.Id,
                remote.Metadata,
                [.. _live.Keys.Where(remote.Owns).Select(connection => new ConnetPeerConnectionStatus(
                    connection.Direction == PeerConnectionDirection.Outgoing ? ConnetPeerConnectionDirection.Outgoing : ConnetPeerConnectionDirection.Incoming,
                    connection.RemoteEndPoint))]));
            return new ConnetEndpointStatus(Name, Role, _sourceAddress, [.. peers]);
        }
    }

    /// <summary>
    /// Announces this endpoint on a new stream of the control connection and applies every pushed peer list until
    /// the stream or connection ends (thrown) or <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task AnnounceAsync(QuicConnection control, WireVersion wireVersion, IReadOnlyList<IPEndPoint> advertised, CancellationToken cancellationToken)
    {
        await using QuicStream stream = await control.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        var peer = new Peer
        {
            ServerCertificate = ByteString.CopyFrom(Certificates.Server.RawData),
            ClientCertificate = ByteString.CopyFrom(Certificates.Client.RawData),
        };
        peer.Directs.AddRange(advertised.Select(WireAddressing.ToAddrPort));
        var request = new Request
        {
            Announce = new Request.Types.Announce
            {
                Endpoint = new Endpoint { Name = Name },
                Role = Role == ConnetEndpointRole.Destination ? Core.Protocol.Wire.Role.Destination : Core.Protocol.Wire.Role.Source,
                Peer = peer,
            },
        };
        await MessageFraming.WriteAsync(stream, request, wireVersion, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            Response response = await MessageFraming.ReadAsync<Response>(stream, wireVersion, cancellationToken).ConfigureAwait(false)
                ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"the control server ended the announce stream of {Name}");
            ConnetError.ThrowIfSet(response.Error);
            if (response.Announce is not null)
            {
                UpdateRemotes(response.Announce.Peers);
            }
        }
    }

    /// <summary>An incoming connection the direct server accepted for this endpoint (already served by our request server).</summary>
    public void AdoptIncoming(PeerConnection connection)
    {
        lock (_lock)
        {
            if (!_endedBeforeAdoption.Remove(connection))
            {
                _live.TryAdd(connection, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync().ConfigureAwait(false);
        }

        await _tasks.DisposeAsync().ConfigureAwait(false);
        PeerConnection[] live;
        lock (_lock)
        {
            live = [.. _live.Keys];
        }

        // Close them ourselves so remote peers learn at once (CONNECTION_CLOSE) rather than at their idle timeout.
        foreach (var connection in live)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        await _requests.DisposeAsync().ConfigureAwait(false);
        _directServer.RemoveLocal(Certificates);
    }

    private void OnConnectionEnded(PeerConnection connection)
    {
        TaskCompletionSource? ended;
        lock (_lock)
        {
            if (_live.Remove(connection, out ended))
            {
                Log.ConnectionLost(_logger, Name, connection.ToString());
            }
            else
            {
                _endedBeforeAdoption.Add(connection);
            }
        }

        ended?.TrySetResult();
    }

    private void UpdateRemotes(IEnumerable<RemotePeer> announced)
    {
        var current = new Dictionary<string, RemotePeer>(StringComparer.Ordinal);
        foreach (var remote in announced)
        {
            current[remote.Id] = remote;
        }

        var toClose = new List<PeerConnection>();
        lock (_lock)
        {
            foreach (var (id, state) in _remotes.ToList())
            {
                if (!current.TryGetValue(id, out var remote) || !state.SameAs(remote))
                {
                    _remotes.Remove(id);
                    state.Dispose();
                    _directServer.ForgetClient(Certificates, state.Client);
                    toClose.AddRange(_live.Keys.Where(state.Owns));
                    Log.PeerGone(_logger, Name, id);
                }
            }

            foreach (var (id, remote) in current)
            {
                if (_remotes.ContainsKey(id))
                {
                    continue;
                }

                RemotePeerState? state = RemotePeerState.TryCreate(remote, _quicEndpoint.LocalEndPoint.AddressFamily, out string? problem);
                if (state is null)
                {
                    Log.PeerUnusable(_logger, Name, id, problem ?? "?");
                    continue;
                }

                _remotes[id] = state;
                _directServer.ExpectClient(Certificates, state.Client);
                Log.PeerAnnounced(_logger, Name, id, string.Join(", ", state.Directs));
                if (state.Directs.Count > 0)
                {
                    _tasks.Run(stopping => DialLoopAsync(state, stopping));
                }
            }
        }

        foreach (var connection in toClose)
        {
            _tasks.Run(_ => connection.DisposeAsync().AsTask());
        }
    }

    /// <summary>Keeps one outgoing connection to <paramref name="remote"/> while it is announced, redialing with backoff.</summary>
    private async Task DialLoopAsync(RemotePeerState remote, CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, remote.Announced);
        CancellationToken token = linked.Token;
        var backoff = new Backoff(ConnetClient.MinBackoff, ConnetClient.MaxBackoff);
        while (!token.IsCancellationRequested)
        {
            try
            {
                PeerConnection connection = await _dialer.DialAsync(Certificates, remote.Server, remote.Directs, token).ConfigureAwait(false);
                var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (_lock)
                {
                    _live[connection] = ended;
                }

                _requests.Serve(connection);
                backoff.Reset();
                await ended.Task.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is ConnetProtocolException or QuicException or ObjectDisposedException or SocketException)
            {
                Log.DialFailed(_logger, Name, remote.Id, exception.Message);
            }

            try
            {
                await Task.Delay(backoff.Next(), _timeProvider, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>A remote peer as announced: its pinned certificates, its addresses, and a token cancelled when it goes away.</summary>
    private sealed class RemotePeerState : IDisposable
    {
        private readonly CancellationTokenSource _announced = new();
        private readonly ByteString _serverRaw;
        private readonly ByteString _clientRaw;

        private RemotePeerState(RemotePeer remote, X509Certificate2 server, X509Certificate2 client, IReadOnlyList<IPEndPoint> directs)
        {
            Id = remote.Id;
            Metadata = remote.Metadata;
            Server = server;
            Client = client;
            ServerKey = CertificateKey.Compute(server.RawData);
            ClientKey = CertificateKey.Compute(client.RawData);
            Directs = directs;
            _serverRaw = remote.Peer.ServerCertificate;
            _clientRaw = remote.Peer.ClientCertificate;
            Announced = _announced.Token;
        }

        public string Id { get; }

        public string Metadata { get; }

        public X509Certificate2 Server { get; }

        public X509Certificate2 Client { get; }

        public string ServerKey { get; }

        public string ClientKey { get; }

        public IReadOnlyList<IPEndPoint> Directs { get; }

        /// <summary>Cached, so a dial loop starting after the peer went away still sees it cancelled.</summary>
        public CancellationToken Announced { get; }

        public static RemotePeerState? TryCreate(RemotePeer remote, AddressFamily localFamily, out string? problem)
        {
            problem = null;
            if (remote.Peer is null)
            {
                problem = "no peer data";
                return null;
            }

            try
            {
                var server = X509CertificateLoader.LoadCertificate(remote.Peer.ServerCertificate.Span);
                var client = X509CertificateLoader.LoadCertificate(remote.Peer.ClientCertificate.Span);
                var directs = remote.Peer.Directs
                    .Select(WireAddressing.ToEndPoint)
                    .OfType<IPEndPoint>()
                    .Select(endPoint => localFamily == AddressFamily.InterNetworkV6 && endPoint.AddressFamily == AddressFamily.InterNetwork
                        ? new IPEndPoint(endPoint.Address.MapToIPv6(), endPoint.Port)
                        : endPoint)
                    .Where(endPoint => endPoint.AddressFamily == localFamily)
                    .Distinct()
                    .ToList();
                return new RemotePeerState(remote, server, client, directs);
            }
            catch (CryptographicException exception)
            {
                problem = $"unreadable certificate: {exception.Message}";
                return null;
            }
        }

        /// <summary>Whether <paramref name="remote"/> is the same peer instance (same certificates and addresses).</summary>
        public bool SameAs(RemotePeer remote) =>
            remote.Peer is not null
            && remote.Peer.ServerCertificate.Equals(_serverRaw)
            && remote.Peer.ClientCertificate.Equals(_clientRaw)
            && remote.Peer.Directs.Select(WireAddressing.ToEndPoint).OfType<IPEndPoint>().Select(endPoint => endPoint.Port).Order()
                .SequenceEqual(Directs.Select(endPoint => endPoint.Port).Order());

        /// <summary>Whether <paramref name="connection"/> is to this peer: its server certificate (outgoing) or its client certificate (incoming).</summary>
        public bool Owns(PeerConnection connection) =>
            connection.RemoteCertificateKey == (connection.Direction == PeerConnectionDirection.Outgoing ? ServerKey : ClientKey);

        /// <summary>The peer went away: ends its dial loop.</summary>
        public void Dispose()
        {
            _announced.Cancel();
            _announced.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Endpoint {Endpoint}: peer {Peer} announced at {Addresses}")]
        public static partial void PeerAnnounced(ILogger logger, string endpoint, string peer, string addresses);

        [LoggerMessage(2, LogLevel.Information, "Endpoint {Endpoint}: peer {Peer} is no longer announced")]
        public static partial void PeerGone(ILogger logger, string endpoint, string peer);

        [LoggerMessage(3, LogLevel.Warning, "Endpoint {Endpoint}: peer {Peer} ignored: {Reason}")]
        public static partial void PeerUnusable(ILogger logger, string endpoint, string peer, string reason);

        [LoggerMessage(4, LogLevel.Debug, "Endpoint {Endpoint}: dialing peer {Peer} failed: {Reason}")]
        public static partial void DialFailed(ILogger logger, string endpoint, string peer, string reason);

        [LoggerMessage(5, LogLevel.Debug, "Endpoint {Endpoint}: connection {Connection} ended")]
        public static partial void ConnectionLost(ILogger logger, string endpoint, string connection);
    }
}
