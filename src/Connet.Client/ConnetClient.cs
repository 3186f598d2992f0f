using System.Net;
using System.Net.NetworkInformation;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Connet.Client.Nat;
using Connet.Client.Peers;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.Control;
using Connet.Core.Runtime;
using Connet.Quic;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Connet.Client;

/// <summary>
/// A connet client (connet-protocol.md §1 "Client"): one UDP socket (<see cref="ConnetClientOptions.DirectAddress"/>)
/// that dials the control server, accepts direct peer connections and dials peers. It authenticates to control,
/// announces every configured endpoint with fresh per-endpoint certificates and its addresses, and connects directly
/// to each announced remote peer while accepting their connections (simultaneous open). Destinations serve tunnels
/// to their TCP target; sources listen for TCP and tunnel each connection over a live peer connection: direct ones
/// first, else through a relay both sides are connected to (with the negotiated relay encryption).
/// </summary>
public sealed partial class ConnetClient : IHostedService, IAsyncDisposable
{
    /// <summary>Reconnect and redial backoff: Go connet's pkg/reliable (min 10 ms, next &lt; 3× previous, cap 15 s).</summary>
    internal static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(10);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ControlRequestTimeout = TimeSpan.FromSeconds(10);

    private readonly ConnetClientOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly List<ClientEndpoint> _endpoints = [];
    private readonly BackgroundTasks _tasks = new();
    private readonly TaskCompletionSource _firstControlAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _statusLock = new();
    private QuicEndpoint? _quicEndpoint;
    private DirectPeerServer? _directServer;
    private ConnetClientState _state = ConnetClientState.NotStarted;
    private IPEndPoint? _publicAddress;
    private IReadOnlyList<IPEndPoint> _advertised = [];

    // What this control session found (public address, interfaces); the NAT-PMP mapping is added to it when held.
    private IReadOnlyList<IPEndPoint> _sessionAddresses = [];
    private NatPmpClient? _natPmp;
    private string? _lastError;
    private int _started;
    private int _stopped;

    public ConnetClient(ConnetClientOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ConnetClient>();
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Validates the options, binds the direct socket, starts the source listeners and the control loop, and waits
    /// for the first control attempt: returns once authenticated, or when the attempt failed transiently (the client
    /// keeps retrying in the background; see <see cref="GetStatus"/>).
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are invalid (every error is listed).</exception>
    /// <exception cref="ConnetProtocolException">The control server refused the token (code AuthenticationFailed).</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var errors = _options.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(ConnetClientOptions), errors);
        }

        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The connet client is already started.");
        }

        SetState(ConnetClientState.Connecting, null);
        _directServer = new DirectPeerServer(_loggerFactory.CreateLogger<DirectPeerServer>(), _options.HandshakeIdleTimeout);
        _directServer.ConnectionAccepted += OnConnectionAccepted;
        var endpointOptions = new QuicEndpointOptions
        {
            LocalEndPoint = _options.DirectAddress,
            TimeProvider = _timeProvider,
            LoggerFactory = _loggerFactory,
            StatelessResetKey = _options.StatelessResetKey?.ToArray(),
        };
        _directServer.ConfigureEndpoint(endpointOptions);
        _quicEndpoint = QuicEndpoint.Bind(endpointOptions);
        var dialer = new DirectPeerDialer(_quicEndpoint, _loggerFactory.CreateLogger<DirectPeerDialer>(), _options.HandshakeIdleTimeout);
        var relayDialer = new RelayDialer(_quicEndpoint, _options.Metadata ?? string.Empty, BuildVersion, _loggerFactory.CreateLogger<RelayDialer>(), _options.HandshakeIdleTimeout);

        foreach (var (name, destination) in _options.Destinations)
        {
            _endpoints.Add(new ClientEndpoint(name, ConnetEndpointRole.Destination, destination, _directServer, dialer, relayDialer, _options.EffectiveRelayEncryptions(destination), _quicEndpoint, _timeProvider, _loggerFactory));
        }

        foreach (var (name, source) in _options.Sources)
        {
            _endpoints.Add(new ClientEndpoint(name, ConnetEndpointRole.Source, source, _directServer, dialer, relayDialer, _options.EffectiveRelayEncryptions(source), _quicEndpoint, _timeProvider, _loggerFactory));
        }

        foreach (var endpoint in _endpoints)
        {
            await endpoint.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        _directServer.Start(_quicEndpoint);
        if (_options.NatPmp != ConnetNatPmp.Disabled || _options.NatPmpGatewayOverride is not null)
        {
            _natPmp = new NatPmpClient(_quicEndpoint, FindNatPmpGatewayAsync, OnNatPmpChanged, _timeProvider, _loggerFactory.CreateLogger<NatPmpClient>());
            _tasks.Run(_natPmp.RunAsync);
        }

        _tasks.Run(ControlLoopAsync);
        await _firstControlAttempt.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_statusLock)
        {
            if (_state == ConnetClientState.AuthenticationFailed)
            {
                throw new ConnetProtocolException(ConnetErrorCode.AuthenticationFailed, _lastError ?? "the control server refused the token");
            }
        }
    }

    /// <summary>Stops everything: the control connection, peer connections, tunnels, listeners and the socket.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _tasks.DisposeAsync().ConfigureAwait(false);
        foreach (var endpoint in _endpoints)
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }

        if (_directServer is not null)
        {
            await _directServer.DisposeAsync().ConfigureAwait(false);
        }

        if (_quicEndpoint is not null)
        {
            await _quicEndpoint.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var endpoint in _endpoints)
        {
            endpoint.Certificates.Dispose();
        }

        SetState(ConnetClientState.Stopped, null);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    public ConnetClientStatus GetStatus()
    {
        lock (_statusLock)
        {
            return new ConnetClientStatus(
                _state,
                _quicEndpoint?.LocalEndPoint,
                _publicAddress,
                _advertised,
                [.. _endpoints.Select(endpoint => endpoint.GetStatus())],
                _lastError,
                _natPmp?.GetStatus());
        }
    }

    private void SetState(ConnetClientState state, string? error)
    {
        lock (_statusLock)
        {
            if (_state == ConnetClientState.Stopped)
            {
                return;
            }

            _state = state;
            if (error is not null)
            {
                _lastError = error;
            }
        }
    }

    private void OnConnectionAccepted(PeerConnection connection)
    {
        // The connection's SNI is the local endpoint's server name (the direct server chose the certificate by it).
        var endpoint = _endpoints.Find(candidate => string.Equals(candidate.Certificates.ServerName, connection.Connection.TargetHostName, StringComparison.OrdinalIgnoreCase));
        endpoint?.AdoptIncoming(connection);
    }

    private async Task ControlLoopAsync(CancellationToken stopping)
    {
        var backoff = new Backoff(MinBackoff, MaxBackoff);
        ByteString reconnectToken = ByteString.Empty;
        while (!stopping.IsCancellationRequested)
        {
            QuicConnection? connection = null;
            try
            {
                connection = await ConnectControlAsync(stopping).ConfigureAwait(false);
                var wireVersion = ConnetAlpns.GetWireVersion(ConnetConnectionKind.ClientToControl, connection.NegotiatedApplicationProtocol);
                AuthenticateResp response = await AuthenticateAsync(connection, wireVersion, reconnectToken, stopping).ConfigureAwait(false);
                reconnectToken = response.ReconnectToken;
                IPEndPoint? publicAddress = WireAddressing.ToEndPoint(response.Public);
                IReadOnlyList<IPEndPoint> sessionAddresses = AdvertisedAddresses(publicAddress, _quicEndpoint!.LocalEndPoint);
                lock (_statusLock)
                {
                    _publicAddress = publicAddress;
                    _sessionAddresses = sessionAddresses;
                    _advertised = WithNatPmp(sessionAddresses, _natPmp?.External);
                }

                SetState(ConnetClientState.Connected, null);
                Log.Connected(_logger, connection.RemoteEndPoint.ToString(), publicAddress?.ToString() ?? "?");
                _firstControlAttempt.TrySetResult();
                backoff.Reset();
                await RunSessionAsync(connection, wireVersion, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (ConnetProtocolException exception) when (exception.Code == ConnetErrorCode.AuthenticationFailed)
            {
                Log.AuthenticationFailed(_logger, exception.Message);
                SetState(ConnetClientState.AuthenticationFailed, $"authentication failed: {exception.Message}");
                _firstControlAttempt.TrySetResult();
                break;
            }
            catch (Exception exception) when (exception is QuicException or ConnetProtocolException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                Log.ControlFailed(_logger, exception.Message);
                SetState(ConnetClientState.Reconnecting, exception.Message);
                _firstControlAttempt.TrySetResult();
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (!await backoff.WaitAsync(_timeProvider, stopping).ConfigureAwait(false))
            {
                break;
            }
        }

        _firstControlAttempt.TrySetResult();
    }

    private async Task<QuicConnection> ConnectControlAsync(CancellationToken stopping)
    {
        var (host, port) = _options.ParseServerAddress();
        IPAddress[] addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, stopping).ConfigureAwait(false);
        AddressFamily family = _quicEndpoint!.LocalEndPoint.AddressFamily;
        IPAddress address = addresses.FirstOrDefault(candidate => candidate.AddressFamily == family)
            ?? (family == AddressFamily.InterNetworkV6 ? addresses[0].MapToIPv6() : throw new SocketException((int)SocketError.AddressFamilyNotSupported));
        string serverName = _options.EffectiveServerName;
        var options = new QuicClientConnectionOptions
        {
            RemoteEndPoint = new IPEndPoint(address, port),
            ClientAuthenticationOptions = new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToControl),
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => ServerCertificateTrust.IsTrusted(certificate, errors, serverName, _options.ServerCertificateAuthorities),
            },
            IdleTimeout = DirectPeerOptions.IdleTimeout,
            KeepAliveInterval = DirectPeerOptions.KeepAliveInterval,
            HandshakeTimeout = _options.HandshakeIdleTimeout,
            MaxInboundBidirectionalStreams = 0,
            MaxInboundUnidirectionalStreams = 0,
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
        };
        return await _quicEndpoint.ConnectAsync(options, stopping).ConfigureAwait(false);
    }

    private async Task<AuthenticateResp> AuthenticateAsync(QuicConnection connection, WireVersion wireVersion, ByteString reconnectToken, CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(ControlRequestTimeout);
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, timeout.Token).ConfigureAwait(false);
        await MessageFraming.WriteAsync(stream, new AuthenticateReq
        {
            Token = _options.Token,
            ReconnectToken = reconnectToken,
            BuildVersion = BuildVersion,
            Metadata = _options.Metadata ?? string.Empty,
        }, wireVersion, timeout.Token).ConfigureAwait(false);
        stream.CompleteWrites();
        AuthenticateResp response = await MessageFraming.ReadAsync<AuthenticateResp>(stream, wireVersion, timeout.Token).ConfigureAwait(false)
            ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, "the control server ended the authentication stream without answering");
        ConnetError.ThrowIfSet(response.Error);
        return response;
    }

    private static string BuildVersion => typeof(ConnetClient).Assembly.GetName().Version?.ToString() ?? "dev";

    /// <summary>Announces every endpoint on its own stream until one of them (or the connection) fails.</summary>
    private async Task RunSessionAsync(QuicConnection connection, WireVersion wireVersion, CancellationToken stopping)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Task[] announces = [.. _endpoints.Select(endpoint => endpoint.AnnounceAsync(connection, wireVersion, CurrentAdvertised, session.Token))];
        Task[] relays = [.. _endpoints.Where(endpoint => endpoint.UsesRelays).Select(endpoint => endpoint.RelaysAsync(connection, wireVersion, session.Token))];
        Task first = await Task.WhenAny([.. announces, .. relays]).ConfigureAwait(false);
        await session.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll([.. announces, .. relays]).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Each announce ends with the session; the first one to end says why.
        }

        await first.ConfigureAwait(false);
        throw new ConnetProtocolException(ConnetErrorCode.Unknown, "the control server ended an announce or relay stream");
    }

    private IReadOnlyList<IPEndPoint> CurrentAdvertised()
    {
        lock (_statusLock)
        {
            return _advertised;
        }
    }

    /// <summary>The NAT-PMP mapping came, changed or went: recompute the addresses and re-announce them on the live session.</summary>
    private void OnNatPmpChanged()
    {
        lock (_statusLock)
        {
            _advertised = WithNatPmp(_sessionAddresses, _natPmp?.External);
        }

        foreach (var endpoint in _endpoints)
        {
            endpoint.AdvertisedChanged();
        }
    }

    /// <summary>The mapped address goes first: it is the one built to be reachable from outside.</summary>
    private static IReadOnlyList<IPEndPoint> WithNatPmp(IReadOnlyList<IPEndPoint> addresses, IPEndPoint? mapped) =>
        mapped is null ? addresses : [.. new[] { mapped }.Concat(addresses).Distinct()];

    /// <summary>The gateway per <see cref="ConnetClientOptions.NatPmp"/> (connet-protocol.md §3), found afresh on every attempt.</summary>
    private async Task<NatPmpGatewayChoice> FindNatPmpGatewayAsync(CancellationToken stopping)
    {
        if (_options.NatPmpGatewayOverride is { } gateway)
        {
            return new NatPmpGatewayChoice(gateway, null);
        }

        IPAddress? address;
        string? problem;
        if (_options.NatPmp == ConnetNatPmp.System)
        {
            address = NatPmpGateway.FromSystem(out problem);
        }
        else
        {
            var (host, _) = _options.ParseServerAddress();
            IPAddress? control;
            try
            {
                control = IPAddress.TryParse(host, out var literal)
                    ? literal
                    : (await Dns.GetHostAddressesAsync(host, AddressFamily.InterNetwork, stopping).ConfigureAwait(false)).FirstOrDefault();
            }
            catch (SocketException exception)
            {
                return new NatPmpGatewayChoice(null, $"cannot resolve the control server {host}: {exception.Message}");
            }

            if (control is null)
            {
                return new NatPmpGatewayChoice(null, $"the control server {host} has no IPv4 address");
            }

            address = NatPmpGateway.FromDial(control, out problem);
        }

        return new NatPmpGatewayChoice(address is null ? null : new IPEndPoint(address, NatPmpProtocol.GatewayPort), problem);
    }

    /// <summary>
    /// What peers should dial (connet-protocol.md §3): the public address control saw, then the socket's own
    /// address (a specific bind) or every non-loopback interface address with the direct port (a wildcard bind).
    /// </summary>
    private static IReadOnlyList<IPEndPoint> AdvertisedAddresses(IPEndPoint? publicAddress, IPEndPoint local)
    {
        var addresses = new List<IPEndPoint>();
        if (publicAddress is not null)
        {
            addresses.Add(publicAddress);
        }

        if (!local.Address.Equals(IPAddress.Any) && !local.Address.Equals(IPAddress.IPv6Any))
        {
            addresses.Add(local);
        }
        else
        {
            try
            {
                foreach (var networkInterface in NetworkInterface.GetAllNetworkInterfaces())
                {
                    if (networkInterface.OperationalStatus != OperationalStatus.Up || networkInterface.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                    {
                        continue;
                    }

                    foreach (var unicast in networkInterface.GetIPProperties().UnicastAddresses)
                    {
                        IPAddress address = unicast.Address;
                        bool usable = address.AddressFamily == AddressFamily.InterNetwork
                            || (local.AddressFamily == AddressFamily.InterNetworkV6 && address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal);
                        if (usable && !IPAddress.IsLoopback(address))
                        {
                            addresses.Add(new IPEndPoint(address, local.Port));
                        }
                    }
                }
            }
            catch (NetworkInformationException)
            {
                // No interface list: the public address alone still works without NAT.
            }
        }

        return [.. addresses.Distinct()];
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Connected to control {Server}; public address {Public}")]
        public static partial void Connected(ILogger logger, string server, string @public);

        [LoggerMessage(2, LogLevel.Error, "Control server refused authentication: {Reason}")]
        public static partial void AuthenticationFailed(ILogger logger, string reason);

        [LoggerMessage(3, LogLevel.Warning, "Control connection failed, reconnecting: {Reason}")]
        public static partial void ControlFailed(ILogger logger, string reason);
    }
}
