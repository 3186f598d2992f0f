using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Connet.Client.Peers;
using Connet.Client.Tunnels;
using Connet.Client.Tunnels.Destinations;
using Connet.Client.Tunnels.Sources;
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
/// announced (each with a dial loop while announced), the set of live direct connections in both directions and,
/// when the route allows relays, its relay stream and one connection per relay control offers.
/// </summary>
internal sealed partial class ClientEndpoint : IAsyncDisposable
{
    private readonly ConnetEndpointOptions _options;
    private readonly DirectPeerServer _directServer;
    private readonly DirectPeerDialer _dialer;
    private readonly RelayDialer _relayDialer;
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
    private readonly Dictionary<string, RelayState> _relays = new(StringComparer.Ordinal);
    private readonly Dictionary<PeerConnection, TaskCompletionSource> _relayLive = [];

    // Signalled whenever what we announce changes (relays connected or lost); the announce stream rewrites it.
    private string? _refusal;
    private readonly Channel<bool> _announceChanged = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly RelayEncryptionSettings _relayEncryption;
    private readonly IDestinationTarget? _target;
    private IAsyncDisposable? _source;
    private IPEndPoint? _sourceAddress;

    public ClientEndpoint(
        string name,
        ConnetEndpointRole role,
        ConnetEndpointOptions options,
        DirectPeerServer directServer,
        DirectPeerDialer dialer,
        RelayDialer relayDialer,
        IReadOnlyList<ConnetRelayEncryption> relayEncryptions,
        QuicEndpoint quicEndpoint,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory)
    {
        Name = name;
        Role = role;
        _options = options;
        _directServer = directServer;
        _dialer = dialer;
        _relayDialer = relayDialer;
        _quicEndpoint = quicEndpoint;
        _timeProvider = timeProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ClientEndpoint>();
        Certificates = PeerCertificates.Create(timeProvider);
        _relayEncryption = new RelayEncryptionSettings(Certificates, relayEncryptions, FindRemote, timeProvider);
        _target = role == ConnetEndpointRole.Destination ? DestinationTarget.Create(name, options, loggerFactory) : null;
        _requests = new PeerRequestServer(
            _target is null ? null : _target.DialAsync,
            loggerFactory.CreateLogger<PeerRequestServer>(),
            relayEncryption: role == ConnetEndpointRole.Destination && UsesRelays ? _relayEncryption : null,
            proxyProtocol: role == ConnetEndpointRole.Destination ? options.ProxyProtocol : ConnetProxyProtocol.None);
        _requests.ConnectionEnded += OnConnectionEnded;
        directServer.AddLocal(Certificates, _requests);
    }

    public string Name { get; }

    public ConnetEndpointRole Role { get; }

    public PeerCertificates Certificates { get; }

    /// <summary>Whether this endpoint dials, accepts and announces direct connections.</summary>
    public bool UsesDirect => _options.Route != ConnetRoute.Relay;

    /// <summary>Whether this endpoint asks control for relays and connects to them.</summary>
    public bool UsesRelays => _options.Route != ConnetRoute.Direct;

    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        if (_target is not null)
        {
            await _target.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        if (Role == ConnetEndpointRole.Source)
        {
            var url = SourceUrl.Parse(_options.Url);
            var opener = new TunnelOpener(
                SourceDestinations,
                TunnelOpenerOptions.From(_options),
                UsesRelays ? _relayEncryption : null,
                _loggerFactory.CreateLogger<TunnelOpener>(),
                _timeProvider);
            if (url.IsHttp)
            {
                var http = await HttpSource.StartAsync(url, Name, opener, _options.Certificate, _options.CertificateAuthorities, _loggerFactory.CreateLogger<HttpSource>(), cancellationToken).ConfigureAwait(false);
                (_source, _sourceAddress) = (http, http.LocalEndPoint);
            }
            else
            {
                var tcp = await TcpSource.StartAsync(url, opener, _options.Certificate, _options.CertificateAuthorities, _loggerFactory.CreateLogger<TcpSource>(), cancellationToken).ConfigureAwait(false);

                // Kept: the listener's socket cannot say where it was bound once disposed, and status must still work then.
                (_source, _sourceAddress) = (tcp, tcp.LocalEndPoint);
            }
        }
    }

    /// <summary>
    /// The announced destination peers and the paths to each: its live direct connections, and the connected relays
    /// it is connected to as well (connet-protocol.md §2.4 "Via relay", step 2). Peers without a path are left out.
    /// </summary>
    public IReadOnlyList<SourceDestination> SourceDestinations()
    {
        lock (_lock)
        {
            var connectedRelays = _relays.Values
                .Where(relay => relay.Connection is not null)
                .ToDictionary(relay => relay.Description.Id, relay => relay.Connection!, StringComparer.Ordinal);
            return
            [
                .. _remotes.Values
                    .Select(remote => new SourceDestination(
                        remote.Id,
                        [.. _live.Keys.Where(remote.Owns), .. remote.RelayIds.Where(connectedRelays.ContainsKey).Select(id => connectedRelays[id])]))
                    .Where(destination => destination.Paths.Count > 0),
            ];
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

    /// <summary>
    /// The paths a source may open tunnels on: the live direct connections, and the connected relays that some
    /// announced destination is connected to as well (connet-protocol.md §2.4 "Via relay", step 2).
    /// </summary>
    public IReadOnlyCollection<PeerConnection> UsableConnections()
    {
        lock (_lock)
        {
            var usable = new List<PeerConnection>(_live.Keys);
            var sharedRelays = _remotes.Values.SelectMany(remote => remote.RelayIds).ToHashSet(StringComparer.Ordinal);
            usable.AddRange(_relays.Values
                .Where(relay => relay.Connection is not null && sharedRelays.Contains(relay.Description.Id))
                .Select(relay => relay.Connection!));
            return usable;
        }
    }

    public ConnetEndpointStatus GetStatus()
    {
        lock (_lock)
        {
            var peers = _remotes.Values.Select(remote => new ConnetPeerStatus(
                remote.Id,
                remote.Metadata,
                [
                    .. _live.Keys.Where(remote.Owns).Select(connection => new ConnetPeerConnectionStatus(
                        connection.Direction == PeerConnectionDirection.Outgoing ? ConnetPeerConnectionDirection.Outgoing : ConnetPeerConnectionDirection.Incoming,
                        connection.RemoteEndPoint)),
                    .. _relays.Values
                        .Where(relay => relay.Connection is not null && remote.RelayIds.Contains(relay.Description.Id))
                        .Select(relay => new ConnetPeerConnectionStatus(ConnetPeerConnectionDirection.Relay, relay.Connection!.RemoteEndPoint, relay.Description.Id)),
                ]));
            var relays = _relays.Values.Select(relay => new ConnetRelayStatus(
                relay.Description.Id,
                relay.Description.Metadata,
                [.. relay.Description.Addresses.Select(address => $"{address.Host}:{address.Port}")],
                relay.Connection?.RemoteEndPoint,
                relay.LastError));
            return new ConnetEndpointStatus(Name, Role, _sourceAddress, [.. peers], [.. relays], _refusal);
        }
    }

    /// <summary>
    /// Announces this endpoint on a new stream of the control connection and applies every pushed peer list until
    /// the stream or connection ends (thrown) or <paramref name="cancellationToken"/> is cancelled. The addresses are
    /// read from <paramref name="advertised"/> at every (re-)announce; <see cref="AdvertisedChanged"/> triggers one.
    /// </summary>
    public async Task AnnounceAsync(QuicConnection control, WireVersion wireVersion, Func<IReadOnlyList<IPEndPoint>> advertised, CancellationToken cancellationToken)
    {
        await using QuicStream stream = await control.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _announceChanged.Reader.TryRead(out _);
        await MessageFraming.WriteAsync(stream, AnnounceRequest(advertised()), wireVersion, cancellationToken).ConfigureAwait(false);
        Task reading = ReadAnnouncementsAsync(stream, wireVersion, session.Token);
        try
        {
            while (true)
            {
                // A new Request.Announce on the same stream replaces the previous one (connet-protocol.md §2.4).
                Task<bool> changed = _announceChanged.Reader.WaitToReadAsync(session.Token).AsTask();
                if (await Task.WhenAny(reading, changed).ConfigureAwait(false) == reading)
                {
                    await reading.ConfigureAwait(false);
                }

                await changed.ConfigureAwait(false);
                _announceChanged.Reader.TryRead(out _);
                await MessageFraming.WriteAsync(stream, AnnounceRequest(advertised()), wireVersion, session.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
            try
            {
                await reading.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The reader ends with the session; a failure of its own was already thrown above.
            }
        }
    }

    /// <summary>
    /// Asks control which relays to use on a new stream of the control connection and keeps one connection to each
    /// relay of every pushed list until the stream or connection ends or <paramref name="cancellationToken"/> is
    /// cancelled. Relay connections outlive the control session: they go only when a new list drops their relay.
    /// An error answer (e.g. a control server without relays) is logged and leaves the endpoint on direct paths.
    /// </summary>
    public async Task RelaysAsync(QuicConnection control, WireVersion wireVersion, CancellationToken cancellationToken)
    {
        await using QuicStream stream = await control.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        var request = new Request
        {
            Relay = new Request.Types.Relay
            {
                Endpoint = new Endpoint { Name = Name },
                Role = WireRole,
                ClientCertificate = ByteString.CopyFrom(Certificates.Client.RawData),
            },
        };
        await MessageFraming.WriteAsync(stream, request, wireVersion, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            Response response = await MessageFraming.ReadAsync<Response>(stream, wireVersion, cancellationToken).ConfigureAwait(false)
                ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"the control server ended the relay stream of {Name}");
            if (response.Error is not null)
            {
                Log.RelaysRefused(_logger, Name, response.Error.Code.ToString(), response.Error.Message);
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }

            if (response.Relays is not null)
            {
                UpdateRelays(response.Relays.Relays);
            }
        }
    }

    /// <summary>The client's addresses changed (a NAT-PMP mapping came or went): announce them again on the live stream.</summary>
    public void AdvertisedChanged() => _announceChanged.Writer.TryWrite(true);

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
            live = [.. _live.Keys, .. _relayLive.Keys];
            foreach (var relay in _relays.Values)
            {
                relay.Dispose();
            }

            _relays.Clear();
        }

        // Close them ourselves so remote peers learn at once (CONNECTION_CLOSE) rather than at their idle timeout.
        foreach (var connection in live)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        await _requests.DisposeAsync().ConfigureAwait(false);
        if (_target is not null)
        {
            await _target.DisposeAsync().ConfigureAwait(false);
        }

        _directServer.RemoveLocal(Certificates);
    }

    private void OnConnectionEnded(PeerConnection connection)
    {
        TaskCompletionSource? ended;
        lock (_lock)
        {
            if (connection.Direction == PeerConnectionDirection.Relay)
            {
                // Relay connections are registered before they are served, so there is nothing to adopt later.
                if (_relayLive.Remove(connection, out ended))
                {
                    Log.ConnectionLost(_logger, Name, connection.ToString());
                }
            }
            else if (_live.Remove(connection, out ended))
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

        lock (_lock)
        {
            foreach (var (id, state) in _remotes.ToList())
            {
                if (current.TryGetValue(id, out var same) && state.SameAs(same))
                {
                    // Same instance; the relays it is connected to may have changed (they do not affect direct paths).
                    state.RelayIds = [.. same.Peer.RelayIds];
                }
                else
                {
                    // No new dials or accepts for it, but live connections stay: a peer that really went away closes
                    // them (or they idle out), while one that only vanished from a restarted control server's list,
                    // or changed its addresses, keeps its open tunnels and is owned again once re-announced.
                    _remotes.Remove(id);
                    state.Dispose();
                    _directServer.ForgetClient(Certificates, state.Client);
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
                Log.PeerAnnounced(_logger, Name, id, string.Join(", ", state.Directs), string.Join(", ", state.RelayIds));
                if (!UsesDirect)
                {
                    // Relay route: the peer's certificates still serve relay encryption, but no direct path is made or accepted.
                    continue;
                }

                _directServer.ExpectClient(Certificates, state.Client);
                if (state.Directs.Count > 0)
                {
                    _tasks.Run(stopping => DialLoopAsync(state, stopping));
                }
            }
        }
    }

    private Core.Protocol.Wire.Role WireRole => Role == ConnetEndpointRole.Destination ? Core.Protocol.Wire.Role.Destination : Core.Protocol.Wire.Role.Source;

    /// <summary>What we announce now: our certificates, our addresses (unless relay-only) and the relays we are connected to.</summary>
    private Request AnnounceRequest(IReadOnlyList<IPEndPoint> advertised)
    {
        var peer = new Peer
        {
            ServerCertificate = ByteString.CopyFrom(Certificates.Server.RawData),
            ClientCertificate = ByteString.CopyFrom(Certificates.Client.RawData),
        };
        if (UsesDirect)
        {
            peer.Directs.AddRange(advertised.Select(WireAddressing.ToAddrPort));
        }

        lock (_lock)
        {
            peer.RelayIds.AddRange(_relays.Values.Where(relay => relay.Connection is not null).Select(relay => relay.Description.Id).Order(StringComparer.Ordinal));
        }

        return new Request
        {
            Announce = new Request.Types.Announce
            {
                Endpoint = new Endpoint { Name = Name },
                Role = WireRole,
                Peer = peer,
            },
        };
    }

    private async Task ReadAnnouncementsAsync(QuicStream stream, WireVersion wireVersion, CancellationToken cancellationToken)
    {
        while (true)
        {
            Response response = await MessageFraming.ReadAsync<Response>(stream, wireVersion, cancellationToken).ConfigureAwait(false)
                ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"the control server ended the announce stream of {Name}");
            if (response.Error is { } error && IsEndpointRefusal((ConnetErrorCode)error.Code))
            {
                // This endpoint is not allowed (name, role, or what it announced): only it stops; the client's other
                // endpoints keep their session. The next control session asks again.
                string refusal = $"control refused the endpoint ({(ConnetErrorCode)error.Code}): {error.Message}";
                lock (_lock)
                {
                    _refusal = refusal;
                }

                Log.EndpointRefused(_logger, Name, refusal);
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }

            ConnetError.ThrowIfSet(response.Error);
            if (response.Announce is not null)
            {
                lock (_lock)
                {
                    _refusal = null;
                }

                UpdateRemotes(response.Announce.Peers);
            }
        }
    }

    private static bool IsEndpointRefusal(ConnetErrorCode code) => code is ConnetErrorCode.EndpointNotAllowed
        or ConnetErrorCode.RoleNotAllowed
        or ConnetErrorCode.AnnounceValidationFailed
        or ConnetErrorCode.AnnounceInvalidClientCertificate
        or ConnetErrorCode.AnnounceInvalidServerCertificate;

    /// <summary>The announced remote peer whose server certificate is named <paramref name="serverName"/> (relay encryption).</summary>
    private RemotePeerCertificates? FindRemote(string serverName)
    {
        lock (_lock)
        {
            RemotePeerState? remote = _remotes.Values.FirstOrDefault(candidate => string.Equals(candidate.ServerName, serverName, StringComparison.OrdinalIgnoreCase));
            return remote is null ? null : new RemotePeerCertificates(remote.Server, remote.Client);
        }
    }

    /// <summary>Most relays one list may make us connect to; the rest are ignored (and logged).</summary>
    private const int MaxRelays = 64;

    private void UpdateRelays(IEnumerable<Relay> offered)
    {
        var current = new Dictionary<string, RelayDescription>(StringComparer.Ordinal);
        foreach (var relay in offered)
        {
            if (current.Count == MaxRelays)
            {
                Log.RelayUnusable(_logger, Name, relay.Id, $"more than {MaxRelays} relays offered");
                continue;
            }

            RelayDescription? description = RelayDescription.TryCreate(relay, out string? problem);
            if (description is null)
            {
                Log.RelayUnusable(_logger, Name, relay.Id, problem ?? "?");
                continue;
            }

            current[description.Id] = description;
        }

        lock (_lock)
        {
            foreach (var (id, state) in _relays.ToList())
            {
                if (current.TryGetValue(id, out var same) && state.Description.SameAs(same))
                {
                    // Control reseals the authentication per session; the next dial uses the newest.
                    state.Description = same;
                    continue;
                }

                _relays.Remove(id);
                state.Dispose();
                Log.RelayGone(_logger, Name, id);
            }

            foreach (var (id, description) in current)
            {
                if (_relays.ContainsKey(id))
                {
                    continue;
                }

                var state = new RelayState(description);
                _relays[id] = state;
                Log.RelayOffered(_logger, Name, id, description.DescribeAddresses());
                _tasks.Run(stopping => RelayLoopAsync(state, stopping));
            }
        }
    }

    /// <summary>Keeps one connection to a relay while control offers it, redialing with backoff; re-announces on every change.</summary>
    private async Task RelayLoopAsync(RelayState relay, CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, relay.Offered);
        CancellationToken token = linked.Token;
        var backoff = new Backoff(ConnetClient.MinBackoff, ConnetClient.MaxBackoff);
        while (!token.IsCancellationRequested)
        {
            PeerConnection? connection = null;
            try
            {
                RelayDescription description;
                lock (_lock)
                {
                    description = relay.Description;
                }

                connection = await _relayDialer.DialAsync(Certificates, description, token).ConfigureAwait(false);
                var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (_lock)
                {
                    _relayLive[connection] = ended;
                    relay.Connection = connection;
                    relay.LastError = null;
                }

                Log.RelayConnected(_logger, Name, connection.ToString());
                _requests.Serve(connection);
                _announceChanged.Writer.TryWrite(true);
                backoff.Reset();
                await ended.Task.WaitAsync(token).ConfigureAwait(false);
                lock (_lock)
                {
                    relay.LastError = "the relay connection closed";
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is ConnetProtocolException or QuicException or ObjectDisposedException or SocketException or IOException)
            {
                Log.RelayFailed(_logger, Name, relay.Description.Id, exception.Message);
                lock (_lock)
                {
                    relay.LastError = exception.Message;
                }
            }
            finally
            {
                if (connection is not null)
                {
                    lock (_lock)
                    {
                        _relayLive.Remove(connection);
                        relay.Connection = null;
                    }

                    _announceChanged.Writer.TryWrite(true);
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (!await backoff.WaitAsync(_timeProvider, token).ConfigureAwait(false))
            {
                return;
            }
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

            if (!await backoff.WaitAsync(_timeProvider, token).ConfigureAwait(false))
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
            ServerName = server.GetNameInfo(X509NameType.DnsName, forIssuer: false);
            RelayIds = [.. remote.Peer.RelayIds];
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

        /// <summary>The server certificate's DNS name, which relay encryption names the peer by.</summary>
        public string ServerName { get; }

        /// <summary>The relays the peer is connected to, as last announced (set under the endpoint's lock).</summary>
        public IReadOnlyCollection<string> RelayIds { get; set; }

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

    /// <summary>A relay control offers: its description (authentication refreshed per list), its connection if up, its token cancelled when dropped.</summary>
    private sealed class RelayState : IDisposable
    {
        private readonly CancellationTokenSource _offered = new();

        public RelayState(RelayDescription description)
        {
            Description = description;
            Offered = _offered.Token;
        }

        public RelayDescription Description { get; set; }

        /// <summary>The authenticated connection while it is up (set under the endpoint's lock).</summary>
        public PeerConnection? Connection { get; set; }

        public string? LastError { get; set; }

        /// <summary>Cached, so a relay loop starting after the relay was dropped still sees it cancelled.</summary>
        public CancellationToken Offered { get; }

        public void Dispose()
        {
            _offered.Cancel();
            _offered.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Endpoint {Endpoint}: peer {Peer} announced at [{Addresses}], relays [{Relays}]")]
        public static partial void PeerAnnounced(ILogger logger, string endpoint, string peer, string addresses, string relays);

        [LoggerMessage(6, LogLevel.Information, "Endpoint {Endpoint}: relay {Relay} offered at {Addresses}")]
        public static partial void RelayOffered(ILogger logger, string endpoint, string relay, string addresses);

        [LoggerMessage(7, LogLevel.Information, "Endpoint {Endpoint}: relay {Relay} is no longer offered")]
        public static partial void RelayGone(ILogger logger, string endpoint, string relay);

        [LoggerMessage(8, LogLevel.Warning, "Endpoint {Endpoint}: relay {Relay} ignored: {Reason}")]
        public static partial void RelayUnusable(ILogger logger, string endpoint, string relay, string reason);

        [LoggerMessage(9, LogLevel.Information, "Endpoint {Endpoint}: connected to {Relay}")]
        public static partial void RelayConnected(ILogger logger, string endpoint, string relay);

        [LoggerMessage(10, LogLevel.Warning, "Endpoint {Endpoint}: relay {Relay} failed, retrying: {Reason}")]
        public static partial void RelayFailed(ILogger logger, string endpoint, string relay, string reason);

        [LoggerMessage(11, LogLevel.Warning, "Endpoint {Endpoint}: control refused the relay request ({Code}): {Reason}")]
        public static partial void RelaysRefused(ILogger logger, string endpoint, string code, string reason);

        [LoggerMessage(12, LogLevel.Error, "Endpoint {Endpoint}: {Reason}")]
        public static partial void EndpointRefused(ILogger logger, string endpoint, string reason);

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
