using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Certificates;
using Connet.Core.Crypto;
using Connet.Core.Net;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.ControlRelays;
using Connet.Core.Restrictions;
using Connet.Core.Runtime;
using Connet.Quic;
using Connet.Relay.Storage;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Connet.Relay;

/// <summary>
/// A connet relay server (connet-protocol.md §1 "Relay server", §2.4 "Relay↔control", "Client→relay", "Via relay"):
/// listens for clients on every ingress, authenticates to the control server from the first ingress's socket with
/// its hostports, a self-signed server certificate and a NaCl box key, accepts the clients whose authentication
/// control sealed for it, and splices each source stream onto a stream to a destination of the same endpoint.
/// </summary>
public sealed class RelayServer : IHostedService, IAsyncDisposable
{
    /// <summary>Reconnect backoff: Go connet's pkg/reliable (min 10 ms, next &lt; 3× previous, cap 15 s).</summary>
    internal static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(10);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(15);

    /// <summary>Idle timeout and keepalive of every connet QUIC connection (Go connet's pkg/quicc).</summary>
    internal static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(20);
    internal static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(10);

    /// <summary>Streams one client may have open towards the relay at once: one per tunnelled connection.</summary>
    internal const int MaxInboundStreamsPerClient = 1024;

    private static readonly TimeSpan ControlRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The longest <see cref="StopAsync"/> waits for client sessions to finish after closing them.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly RelayServerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly BackgroundTasks _tasks = new();
    private readonly ConcurrentDictionary<RelayClientSession, Task> _sessions = new();
    private readonly List<QuicEndpoint> _ingresses = [];
    private readonly TaskCompletionSource _firstControlAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _statusLock = new();
    private readonly SharedState _shared;
    private RelayStore? _store;
    private X509Certificate2? _certificate;
    private byte[] _boxPrivateKey = [];
    private byte[] _boxPublicKey = [];
    private byte[]? _controlSharedKey;
    private RelayControlState _state = RelayControlState.NotStarted;
    private string? _lastError;
    private IReadOnlyList<string> _hostports = [];
    private IReadOnlyList<IPEndPoint> _ingressEndPoints = [];
    private int _started;
    private int _stopped;

    public RelayServer(RelayServerOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<RelayServer>();
        _timeProvider = timeProvider ?? options.TimeProvider ?? TimeProvider.System;
        _shared = new SharedState(new RelayClientDirectory(), () => Volatile.Read(ref _controlSharedKey));
    }

    /// <summary>The relay's server certificate (self-signed, ECDSA P-256) that control hands to clients to pin; null before start.</summary>
    public X509Certificate2? ServerCertificate => _certificate;

    /// <summary>
    /// Validates the options, opens the store, binds every ingress, starts the control loop and waits for the first
    /// control attempt: returns once authenticated, or when the attempt failed transiently (the relay keeps retrying
    /// in the background; see <see cref="GetStatus"/>).
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are invalid (every error is listed).</exception>
    /// <exception cref="RelayStoreException">The store in <see cref="RelayServerOptions.StoreDirectory"/> cannot be opened.</exception>
    /// <exception cref="ConnetProtocolException">The control server refused the token (code AuthenticationFailed).</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var errors = _options.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(RelayServerOptions), errors);
        }

        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The relay server has already been started.");
        }

        SetState(RelayControlState.Connecting, null);
        try
        {
            _store = RelayStore.Open(_options.StoreDirectory);
            _certificate = CreateServerCertificate(_timeProvider);
            (_boxPrivateKey, _boxPublicKey) = NaClBox.GenerateKeyPair();
            var hostports = new List<string>();
            foreach (var ingress in _options.Ingresses)
            {
                cancellationToken.ThrowIfCancellationRequested();
                QuicEndpoint endpoint = BindIngress(ingress);
                _ingresses.Add(endpoint);
                hostports.AddRange(ingress.Hostports.Count > 0 ? ingress.Hostports : [$"localhost:{endpoint.LocalEndPoint.Port}"]);
                RelayServerLog.IngressListening(_logger, endpoint.LocalEndPoint);
            }

            lock (_statusLock)
            {
                _hostports = hostports;
                _ingressEndPoints = [.. _ingresses.Select(endpoint => endpoint.LocalEndPoint)];
            }

            foreach (var endpoint in _ingresses)
            {
                _tasks.Run(stopping => AcceptAsync(endpoint, stopping));
            }

            _tasks.Run(ControlLoopAsync);
        }
        catch
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await _firstControlAttempt.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_statusLock)
        {
            if (_state == RelayControlState.AuthenticationFailed)
            {
                throw new ConnetProtocolException(ConnetErrorCode.AuthenticationFailed, _lastError ?? "the control server refused the relay token");
            }
        }
    }

    /// <summary>Closes the control connection and every client connection, ends the splices and releases the sockets.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        // Cancels the control loop (which closes control) and the accept loops, and with them every session.
        var stoppingTasks = _tasks.DisposeAsync().AsTask();
        await Task.WhenAll(_sessions.Keys.Select(session => session.CloseQuietlyAsync(ConnetErrorCode.Unknown))).ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_sessions.Values.Append(stoppingTasks)).WaitAsync(ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception notDone) when (notDone is TimeoutException or OperationCanceledException)
        {
            // Sessions stuck past the deadline are abandoned; their connections are already closed.
        }

        foreach (var endpoint in _ingresses)
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }

        _store?.Dispose();
        SetState(RelayControlState.Stopped, null);
        _firstControlAttempt.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _certificate?.Dispose();
    }

    public RelayServerStatus GetStatus()
    {
        lock (_statusLock)
        {
            return new RelayServerStatus(_state, _store is null ? null : SafeControlId(), _lastError, _hostports, _ingressEndPoints, _shared.Directory.Snapshot());
        }
    }

    private string? SafeControlId()
    {
        try
        {
            return _store?.ControlId;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    private void SetState(RelayControlState state, string? error)
    {
        lock (_statusLock)
        {
            if (_state == RelayControlState.Stopped)
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

    private QuicEndpoint BindIngress(RelayIngress ingress)
    {
        var restriction = IPRestriction.Parse(ingress.AllowCidrs, ingress.DenyCidrs);
        var serverOptions = new QuicServerConnectionOptions
        {
            ServerAuthenticationOptions = new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate,
                ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToRelay),

                // connet's RequireAnyClientCert: a client presents its endpoint's certificate, which no CA signs;
                // authentication binds it to what control sealed (its key), checked after the handshake.
                ClientCertificateRequired = true,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
            },
            IdleTimeout = IdleTimeout,
            KeepAliveInterval = KeepAliveInterval,
            HandshakeTimeout = _options.HandshakeIdleTimeout,
            MaxInboundBidirectionalStreams = MaxInboundStreamsPerClient,
            MaxInboundUnidirectionalStreams = 0,
            DefaultCloseErrorCode = (long)ConnetErrorCode.Unknown,
            DefaultStreamErrorCode = (long)ConnetErrorCode.Unknown,
        };

        return QuicEndpoint.Bind(new QuicEndpointOptions
        {
            LocalEndPoint = ingress.Address,
            ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToRelay),

            // A stored key lets a restarted relay reset the connections of clients that missed the shutdown.
            StatelessResetKey = _store!.StatelessResetKey,
            TimeProvider = _timeProvider,
            LoggerFactory = _loggerFactory,

            // Refusing here, on the first Initial, means a denied address never gets a handshake.
            ConnectionOptionsCallback = (connection, _, _) =>
            {
                if (!restriction.IsAllowed(connection.RemoteEndPoint))
                {
                    RelayServerLog.IngressRefused(_logger, connection.RemoteEndPoint);
                    throw new UnauthorizedAccessException($"{connection.RemoteEndPoint} is not allowed by the relay ingress.");
                }

                return ValueTask.FromResult(serverOptions);
            },
        });
    }

    /// <summary>
    /// The certificate clients pin (any name works for them; Go connet names it <c>&lt;random&gt;.reserve.relay.invalid</c>
    /// and clients send that name as SNI). Regenerated on every start, as in Go: control hands out the current one.
    /// </summary>
    private static X509Certificate2 CreateServerCertificate(TimeProvider timeProvider)
    {
        DateTimeOffset now = timeProvider.GetUtcNow();
        string name = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) + ".reserve.relay.invalid";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([PeerCertificates.ServerAuthentication], critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));

        // Back-dated a little, like the peer certificates, for clients whose clock is slightly behind.
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(2));
    }

    private async Task AcceptAsync(QuicEndpoint endpoint, CancellationToken stopping)
    {
        var endPoint = endpoint.LocalEndPoint;
        while (!stopping.IsCancellationRequested)
        {
            QuicConnection connection;
            try
            {
                connection = await endpoint.AcceptConnectionAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (QuicException exception) when (exception.QuicError == QuicError.OperationAborted)
            {
                return;
            }
            catch (QuicException exception)
            {
                // One failed handshake must not stop the ingress.
                RelayServerLog.AcceptFailed(_logger, endPoint, exception.Message);
                continue;
            }

            StartSession(connection, stopping);
        }
    }

    private void StartSession(QuicConnection connection, CancellationToken stopping)
    {
        var session = new RelayClientSession(_shared, connection, _logger);
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
                RelayServerLog.SessionFailed(_logger, connection.RemoteEndPoint, unexpected);
            }
            finally
            {
                _sessions.TryRemove(session, out _);
                running.TrySetResult();
            }
        }, CancellationToken.None);
    }

    private async Task ControlLoopAsync(CancellationToken stopping)
    {
        var backoff = new Backoff(MinBackoff, MaxBackoff);
        while (!stopping.IsCancellationRequested)
        {
            QuicConnection? connection = null;
            try
            {
                connection = await ConnectControlAsync(stopping).ConfigureAwait(false);
                var wireVersion = ConnetAlpns.GetWireVersion(ConnetConnectionKind.RelayToControl, connection.NegotiatedApplicationProtocol);
                AuthenticateResp response = await AuthenticateAsync(connection, wireVersion, stopping).ConfigureAwait(false);
                AcceptControl(response);
                SetState(RelayControlState.Connected, null);
                RelayServerLog.ControlConnected(_logger, connection.RemoteEndPoint.ToString(), response.ControlId);
                _firstControlAttempt.TrySetResult();
                backoff.Reset();
                await WaitForControlCloseAsync(connection, stopping).ConfigureAwait(false);
                throw new ConnetProtocolException(ConnetErrorCode.Unknown, "the control connection ended");
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (ConnetProtocolException exception) when (exception.Code == ConnetErrorCode.AuthenticationFailed)
            {
                RelayServerLog.ControlAuthenticationFailed(_logger, exception.Message);
                SetState(RelayControlState.AuthenticationFailed, $"authentication failed: {exception.Message}");
                _firstControlAttempt.TrySetResult();
                break;
            }
            catch (ControlIdChangedException exception)
            {
                RelayServerLog.ControlIdChanged(_logger, exception.ControlId, exception.StoredControlId);
                SetState(RelayControlState.Reconnecting, exception.Message);
                _firstControlAttempt.TrySetResult();
                if (connection is not null)
                {
                    await ConnectionRefusal.CloseQuietlyAsync(connection, ConnetErrorCode.AuthenticationFailed).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is QuicException or ConnetProtocolException or IOException or SocketException or OperationCanceledException or ObjectDisposedException or CryptographicException or RelayStoreException or Microsoft.Data.Sqlite.SqliteException)
            {
                RelayServerLog.ControlFailed(_logger, exception.Message);
                SetState(RelayControlState.Reconnecting, exception.Message);
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

    /// <summary>
    /// Checks control's answer and adopts it: a relay belongs to the control server it first authenticated to (its
    /// stored ID), and from now on clients are opened with the key shared with that server.
    /// </summary>
    private void AcceptControl(AuthenticateResp response)
    {
        if (string.IsNullOrEmpty(response.ControlId))
        {
            throw new ConnetProtocolException(ConnetErrorCode.Unknown, "the control server sent no control ID");
        }

        if (response.ControlAuthenticationKey.Length != NaClBox.KeyLength)
        {
            throw new ConnetProtocolException(ConnetErrorCode.Unknown,
                $"the control server's authentication key is {response.ControlAuthenticationKey.Length} bytes, not {NaClBox.KeyLength}");
        }

        string? stored = _store!.ControlId;
        if (stored is not null && !string.Equals(stored, response.ControlId, StringComparison.Ordinal))
        {
            throw new ControlIdChangedException(response.ControlId, stored);
        }

        byte[] sharedKey = NaClBox.Precompute(response.ControlAuthenticationKey.Span, _boxPrivateKey);
        if (stored is null)
        {
            _store.SetControlId(response.ControlId);
        }

        _store.SetControlReconnectToken(response.ReconnectToken.Span);

        // Kept after the control connection ends: control's key is persistent, so clients it sealed for us stay
        // valid while we reconnect.
        Volatile.Write(ref _controlSharedKey, sharedKey);
    }

    private async Task<QuicConnection> ConnectControlAsync(CancellationToken stopping)
    {
        var (host, port) = _options.ParseControlAddress();
        IPAddress[] addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, stopping).ConfigureAwait(false);
        QuicEndpoint endpoint = _ingresses[0];
        AddressFamily family = endpoint.LocalEndPoint.AddressFamily;
        IPAddress address = addresses.FirstOrDefault(candidate => candidate.AddressFamily == family)
            ?? (family == AddressFamily.InterNetworkV6 && addresses.Length > 0
                ? addresses[0].MapToIPv6()
                : throw new SocketException((int)SocketError.AddressFamilyNotSupported));
        string serverName = _options.EffectiveControlServerName;
        X509Certificate2Collection authorities = _options.ControlCertificateAuthorities;
        var options = new QuicClientConnectionOptions
        {
            RemoteEndPoint = new IPEndPoint(address, port),
            ClientAuthenticationOptions = new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.RelayToControl),
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => ServerCertificateTrust.IsTrusted(certificate, errors, serverName, authorities),
            },
            IdleTimeout = IdleTimeout,
            KeepAliveInterval = KeepAliveInterval,
            HandshakeTimeout = _options.HandshakeIdleTimeout,

            // Control opens no streams towards a relay.
            MaxInboundBidirectionalStreams = 0,
            MaxInboundUnidirectionalStreams = 0,
            DefaultCloseErrorCode = (long)ConnetErrorCode.Unknown,
            DefaultStreamErrorCode = (long)ConnetErrorCode.Unknown,
        };
        return await endpoint.ConnectAsync(options, stopping).ConfigureAwait(false);
    }

    private async Task<AuthenticateResp> AuthenticateAsync(QuicConnection connection, WireVersion wireVersion, CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(ControlRequestTimeout);
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, timeout.Token).ConfigureAwait(false);
        var request = new AuthenticateReq
        {
            Token = _options.Token,
            ReconnectToken = ByteString.CopyFrom(_store!.ControlReconnectToken),
            BuildVersion = BuildVersion,
            Metadata = _options.Metadata ?? string.Empty,
            ServerCertificate = ByteString.CopyFrom(_certificate!.RawData),
            RelayAuthenticationKey = ByteString.CopyFrom(_boxPublicKey),
        };
        IReadOnlyList<string> hostports;
        lock (_statusLock)
        {
            hostports = _hostports;
        }

        foreach (var hostport in hostports)
        {
            // Validated with the options; localhost:<port> defaults are well formed.
            if (HostPorts.TryParse(hostport, out var host, out var port))
            {
                request.Addresses.Add(new HostPort { Host = host, Port = (uint)port });
            }
        }

        await MessageFraming.WriteAsync(stream, request, wireVersion, timeout.Token).ConfigureAwait(false);
        stream.CompleteWrites();
        AuthenticateResp response = await MessageFraming.ReadAsync<AuthenticateResp>(stream, wireVersion, MessageFraming.MaxHandshakeMessageSize, timeout.Token).ConfigureAwait(false)
            ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, "the control server ended the authentication stream without answering");
        ConnetError.ThrowIfSet(response.Error);
        return response;
    }

    /// <summary>Returns when the control connection closes; control opens no streams, so accepting only waits.</summary>
    private static async Task WaitForControlCloseAsync(QuicConnection connection, CancellationToken stopping)
    {
        try
        {
            // Bounded: the connection allows control no streams, so an accept returns only when it ends.
            for (int unexpected = 0; unexpected < 16; unexpected++)
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync(stopping).ConfigureAwait(false);
                stream.Abort(QuicAbortDirection.Both, (long)ConnetErrorCode.RequestUnknown);
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (QuicException ended) when (ConnetError.FromApplicationError(ended) is { } closed)
        {
            throw closed;
        }
    }

    private static string BuildVersion => typeof(RelayServer).Assembly.GetName().Version?.ToString() ?? "dev";

    /// <summary>What every client session of this relay shares.</summary>
    internal sealed record SharedState(RelayClientDirectory Directory, Func<byte[]?> ControlSharedKey);

    /// <summary>Control answered with a different ID than the one this relay belongs to.</summary>
    private sealed class ControlIdChangedException(string controlId, string storedControlId)
        : Exception($"the control server's ID {controlId} is not {storedControlId}, the control server this relay belongs to; refusing it (use a fresh store directory to move the relay to another control server)")
    {
        public string ControlId { get; } = controlId;

        public string StoredControlId { get; } = storedControlId;
    }
}
