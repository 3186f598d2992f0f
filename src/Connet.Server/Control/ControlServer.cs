using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using Connet.Core.Crypto;
using Connet.Core.Protocol;
using Connet.Core.Restrictions;
using Connet.Server.Control.Storage;
using Connet.Quic;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Org.BouncyCastle.Crypto.Parameters;

namespace Connet.Server.Control;

/// <summary>
/// The control server: listens on every client ingress, authenticates clients by token, stores their
/// announcements and streams each announce its opposite-role peers; listens on every relay ingress, authenticates
/// relays and tells clients which relays they can use, with an authentication each relay can check.
/// </summary>
public sealed class ControlServer : IHostedService, IAsyncDisposable
{
    /// <summary>The longest <see cref="StopAsync"/> waits for sessions to finish after closing them.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan ClientIdleTimeout = TimeSpan.FromSeconds(20);

    // Go connet's QUIC settings (pkg/quicc): a relay connection carries only keep-alives.
    private static readonly TimeSpan RelayIdleTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan RelayKeepAliveInterval = TimeSpan.FromSeconds(10);

    private readonly ControlServerOptions _options;
    private readonly ILogger _logger;
    private readonly SharedState _shared;
    private readonly SqliteControlStore? _ownedStore;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<(QuicEndpoint Listener, Task Accepting)> _listeners = [];
    private readonly List<(QuicEndpoint Listener, Task Accepting)> _relayListeners = [];
    private readonly ConcurrentDictionary<ClientSession, Task> _sessions = new();
    private readonly ConcurrentDictionary<RelaySession, Task> _relaySessions = new();
    private int _started;
    private int _stopped;

    /// <param name="store">
    /// Where announcements live; when null the server opens a <see cref="SqliteControlStore"/> in
    /// <see cref="ControlServerOptions.StoreDirectory"/> (and closes it on dispose), else keeps them in memory.
    /// A store that also implements <see cref="IControlServerKeys"/> supplies the reconnect-token key.
    /// </param>
    /// <exception cref="ControlStoreException">The store in <see cref="ControlServerOptions.StoreDirectory"/> cannot be opened.</exception>
    public ControlServer(ControlServerOptions options, IControlStore? store = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ControlServerOptionsValidator.ThrowIfInvalid(options);
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ControlServer>();
        var timeProvider = options.TimeProvider ?? TimeProvider.System;
        if (store is null && options.StoreDirectory is not null)
        {
            store = _ownedStore = new SqliteControlStore(options.StoreDirectory, timeProvider);
        }

        store ??= new InMemoryControlStore();
        Keys = store as IControlServerKeys;
        _shared = new SharedState(
            new ClientAuthenticator(options.Tokens),
            Keys is null ? ReconnectTokens.CreateRandom() : new ReconnectTokens(Keys.ReconnectTokenKey.Span),
            new PeerDirectory(store, timeProvider, options.EndpointExpiry),
            timeProvider,
            ClientAuthenticator.ForRelays(options.RelayTokens ?? []),
            new RelayDirectory(),
            Keys?.ServerId ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Keys is null ? RelayBoxKeys.Generate() : RelayBoxKeys.FromPrivateKey(Keys.RelayAuthenticationKey.Span));
    }

    /// <summary>
    /// The persistent server ID and keys when the store keeps them, else null (every ingress then gets a random
    /// stateless reset key and reconnect tokens die with the process).
    /// </summary>
    public IControlServerKeys? Keys { get; }

    /// <summary>The bound address of each client ingress, in configuration order (useful with port 0); empty before start.</summary>
    public IReadOnlyList<IPEndPoint> ClientIngressEndPoints { get; private set; } = [];

    /// <summary>The bound address of each relay ingress, in configuration order; empty before start or without relays.</summary>
    public IReadOnlyList<IPEndPoint> RelayIngressEndPoints { get; private set; } = [];

    /// <summary>The ID relays get as <c>control_id</c>: the store's server ID, or random per process without one.</summary>
    public string ServerId => _shared.ServerId;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The control server has already been started.");
        }

        try
        {
            foreach (var ingress in _options.ClientIngresses)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var restriction = IPRestriction.Parse(ingress.AllowCidrs, ingress.DenyCidrs);
                var serverOptions = new QuicServerConnectionOptions
                {
                    ServerAuthenticationOptions = new SslServerAuthenticationOptions { ServerCertificate = ingress.Certificate },
                    IdleTimeout = ClientIdleTimeout,
                    DefaultCloseErrorCode = (long)ConnetErrorCode.Unknown,
                    DefaultStreamErrorCode = (long)ConnetErrorCode.Unknown,
                    MaxInboundBidirectionalStreams = 256,

                    // One, not zero: with no credit a client's open would just wait; with one, the stream arrives
                    // and the session can disconnect the client with a code that says why.
                    MaxInboundUnidirectionalStreams = 1,
                };

                // A QuicEndpoint rather than a QuicListener: only its options take a stateless reset key, and a
                // stored key lets a restarted server reset the connections of clients that missed the shutdown.
                var listener = QuicEndpoint.Bind(new QuicEndpointOptions
                {
                    LocalEndPoint = ingress.Address,
                    ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToControl),
                    StatelessResetKey = Keys?.StatelessResetKey.ToArray(),

                    // Refusing here, on the first Initial, means a denied address never gets a handshake.
                    ConnectionOptionsCallback = (connection, _, _) =>
                    {
                        if (!restriction.IsAllowed(connection.RemoteEndPoint))
                        {
                            ControlServerLog.IngressRefused(_logger, connection.RemoteEndPoint);
                            throw new UnauthorizedAccessException($"{connection.RemoteEndPoint} is not allowed by the client ingress.");
                        }

                        return ValueTask.FromResult(serverOptions);
                    },
                });
                _listeners.Add((listener, AcceptAsync(listener, StartSession, _stopping.Token)));
                ControlServerLog.IngressListening(_logger, listener.LocalEndPoint);
            }

            foreach (var ingress in _options.RelayIngresses ?? [])
            {
                cancellationToken.ThrowIfCancellationRequested();
                var listener = BindRelayIngress(ingress);
                _relayListeners.Add((listener, AcceptAsync(listener, StartRelaySession, _stopping.Token)));
                ControlServerLog.RelayIngressListening(_logger, listener.LocalEndPoint);
            }
        }
        catch
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        ClientIngressEndPoints = [.. _listeners.Select(entry => entry.Listener.LocalEndPoint)];
        RelayIngressEndPoints = [.. _relayListeners.Select(entry => entry.Listener.LocalEndPoint)];
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var (listener, _) in _listeners.Concat(_relayListeners))
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        // Tell every client and relay we are going (code 0: no error) before the sessions unwind.
        await Task.WhenAll(_sessions.Keys.Select(session => session.CloseQuietlyAsync(ConnetErrorCode.Unknown))
            .Concat(_relaySessions.Keys.Select(session => session.CloseQuietlyAsync(ConnetErrorCode.Unknown)))).ConfigureAwait(false);
        var everything = Task.WhenAll(_listeners.Concat(_relayListeners).Select(entry => entry.Accepting)
            .Concat(_sessions.Values)
            .Concat(_relaySessions.Values));
        try
        {
            await everything.WaitAsync(ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception notDone) when (notDone is TimeoutException or OperationCanceledException)
        {
            // Sessions stuck past the deadline are abandoned; their connections are already closed.
        }

        _shared.Directory.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _shared.ReconnectTokens.Dispose();
        _ownedStore?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>The connected clients and relays and every endpoint's announcements right now.</summary>
    public ControlServerStatus GetStatus()
    {
        var clients = _sessions.Keys
            .Select(session => session.Status)
            .OfType<ControlClientStatus>()
            .OrderBy(client => client.Id, StringComparer.Ordinal)
            .ToList();
        var endpoints = _shared.Directory.Snapshot()
            .GroupBy(peer => peer.Key.Endpoint, StringComparer.Ordinal)
            .OrderBy(group => group.Key, StringComparer.Ordinal)
            .Select(group => new ControlEndpointStatus(group.Key, [.. group
                .OrderBy(peer => peer.Key.ClientId, StringComparer.Ordinal)
                .ThenBy(peer => peer.Key.Role)
                .Select(peer => new ControlPeerStatus(
                    peer.Key.ClientId,
                    peer.Key.Role,
                    peer.Metadata,
                    [.. peer.Peer.Directs.Select(WireAddresses.ToEndPoint).OfType<IPEndPoint>()],
                    [.. peer.Peer.RelayIds],
                    peer.ExpiresAt))]))
            .ToList();
        var relays = _shared.Relays.Snapshot()
            .Select(relay => new ControlRelayStatus(
                relay.Id,
                relay.RemoteAddress,
                [.. relay.Addresses.Select(address => FormatHostPort(address.Host, address.Port))],
                relay.Metadata,
                relay.ConnectedAt))
            .ToList();
        return new ControlServerStatus(ClientIngressEndPoints, clients, endpoints, RelayIngressEndPoints, relays);
    }

    private QuicEndpoint BindRelayIngress(ControlRelayIngress ingress)
    {
        var restriction = IPRestriction.Parse(ingress.AllowCidrs, ingress.DenyCidrs);
        var serverOptions = new QuicServerConnectionOptions
        {
            ServerAuthenticationOptions = new SslServerAuthenticationOptions { ServerCertificate = ingress.Certificate },
            IdleTimeout = RelayIdleTimeout,
            KeepAliveInterval = RelayKeepAliveInterval,
            DefaultCloseErrorCode = (long)ConnetErrorCode.Unknown,
            DefaultStreamErrorCode = (long)ConnetErrorCode.Unknown,

            // One authentication stream; anything after it is refused, so a small window is plenty.
            MaxInboundBidirectionalStreams = 4,
            MaxInboundUnidirectionalStreams = 0,
        };
        return QuicEndpoint.Bind(new QuicEndpointOptions
        {
            LocalEndPoint = ingress.Address,
            ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.RelayToControl),
            StatelessResetKey = Keys?.StatelessResetKey.ToArray(),
            ConnectionOptionsCallback = (connection, _, _) =>
            {
                if (!restriction.IsAllowed(connection.RemoteEndPoint))
                {
                    ControlServerLog.RelayIngressRefused(_logger, connection.RemoteEndPoint);
                    throw new UnauthorizedAccessException($"{connection.RemoteEndPoint} is not allowed by the relay ingress.");
                }

                return ValueTask.FromResult(serverOptions);
            },
        });
    }

    private async Task AcceptAsync(QuicEndpoint listener, Action<QuicConnection, CancellationToken> startSession, CancellationToken stopping)
    {
        var endPoint = listener.LocalEndPoint;
        while (!stopping.IsCancellationRequested)
        {
            QuicConnection connection;
            try
            {
                connection = await listener.AcceptConnectionAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception failed)
            {
                // One failed handshake must not stop the ingress.
                ControlServerLog.AcceptFailed(_logger, endPoint, failed);
                continue;
            }

            startSession(connection, stopping);
        }
    }

    private void StartSession(QuicConnection connection, CancellationToken stopping)
    {
        ClientSession session;
        try
        {
            session = new ClientSession(_shared, connection, _logger);
        }
        catch (ConnetProtocolException unknownAlpn)
        {
            ControlServerLog.SessionFailed(_logger, connection.RemoteEndPoint, unknownAlpn);
            _ = connection.DisposeAsync().AsTask();
            return;
        }

        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _sessions[session] = running.Task;
        _ = Task.Run(async () =>
        {
            try
            {
                await session.RunAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception unexpected)
            {
                ControlServerLog.SessionFailed(_logger, connection.RemoteEndPoint, unexpected);
            }
            finally
            {
                _sessions.TryRemove(session, out _);
                running.TrySetResult();
            }
        }, CancellationToken.None);
    }

    private void StartRelaySession(QuicConnection connection, CancellationToken stopping)
    {
        RelaySession session;
        try
        {
            session = new RelaySession(_shared, connection, _logger);
        }
        catch (ConnetProtocolException unknownAlpn)
        {
            ControlServerLog.RelaySessionFailed(_logger, connection.RemoteEndPoint, unknownAlpn);
            _ = connection.DisposeAsync().AsTask();
            return;
        }

        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _relaySessions[session] = running.Task;
        _ = Task.Run(async () =>
        {
            try
            {
                await session.RunAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception unexpected)
            {
                ControlServerLog.RelaySessionFailed(_logger, connection.RemoteEndPoint, unexpected);
            }
            finally
            {
                _relaySessions.TryRemove(session, out _);
                running.TrySetResult();
            }
        }, CancellationToken.None);
    }

    private static string FormatHostPort(string host, uint port) =>
        host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>What every session of this server shares.</summary>
    internal sealed record SharedState(
        ClientAuthenticator Authenticator,
        ReconnectTokens ReconnectTokens,
        PeerDirectory Directory,
        TimeProvider TimeProvider,
        ClientAuthenticator RelayAuthenticator,
        RelayDirectory Relays,
        string ServerId,
        RelayBoxKeys RelayBoxKeys);

    /// <summary>The server's NaCl box key pair for relays (<c>control_authentication_key</c> is the public half).</summary>
    internal sealed record RelayBoxKeys(byte[] PrivateKey, byte[] PublicKey)
    {
        public static RelayBoxKeys Generate()
        {
            var (privateKey, publicKey) = NaClBox.GenerateKeyPair();
            return new RelayBoxKeys(privateKey, publicKey);
        }

        public static RelayBoxKeys FromPrivateKey(ReadOnlySpan<byte> privateKey)
        {
            var key = new X25519PrivateKeyParameters(privateKey);
            return new RelayBoxKeys(key.GetEncoded(), key.GeneratePublicKey().GetEncoded());
        }
    }
}
