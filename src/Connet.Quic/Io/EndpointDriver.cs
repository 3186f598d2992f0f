using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Threading.Channels;
using Connet.Quic.Core;
using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Endpoint;
using Connet.Quic.Core.Tls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Connet.Quic.Io;

/// <summary>
/// Owns one UDP socket and its <see cref="EndpointCore"/>: feeds received datagrams through the core, creates
/// connection drivers for dialled and accepted connections, and queues what the application takes out
/// (accepted connections, raw datagrams). The core is guarded by its own lock, always taken after a connection's.
/// </summary>
internal sealed class EndpointDriver : IDatagramReceiver, IAsyncDisposable
{
    private readonly QuicEndpointOptions _options;
    private readonly UdpSocket _socket;
    private readonly EndpointCore _core;
    private readonly Lock _coreLock = new();
    private readonly Dictionary<ConnectionHandle, ConnectionDriver> _connections = [];
    private readonly byte[] _response = new byte[EndpointCore.MaxResponseLength];
    private readonly byte[] _statelessResetKey;
    private readonly Channel<QuicConnection> _accepted = Channel.CreateUnbounded<QuicConnection>();
    private readonly Channel<QuicRawDatagram> _raw = Channel.CreateBounded<QuicRawDatagram>(
        new BoundedChannelOptions(QuicDefaults.RawDatagramQueueLength) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true });

    private readonly CancellationTokenSource _disposing = new();

    // Receive thread only: connections that took datagrams in this receive batch and still have to drive.
    private readonly List<ConnectionDriver> _awaitingDrive = [];
    private int _disposed;

    public EndpointDriver(QuicEndpointOptions options)
    {
        _options = options;
        TimeProvider = options.TimeProvider;
        Logger = options.LoggerFactory?.CreateLogger("Connet.Quic") ?? NullLogger.Instance;
        _statelessResetKey = options.StatelessResetKey?.ToArray() ?? RandomNumberGenerator.GetBytes(QuicDefaults.StatelessResetKeyLength);
        try
        {
            _socket = new UdpSocket(options.LocalEndPoint, Logger);
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new QuicException(QuicError.AddressInUse, null, null, $"The address {options.LocalEndPoint} is already in use.", exception);
        }

        _core = new EndpointCore(new EndpointCoreOptions
        {
            ConnectionIdLength = options.ConnectionIdLength,
            IsListening = options.IsListening,
            AcceptBacklog = options.ListenBacklog,
            RequireRetry = options.RequireRetry,
            StatelessResetKey = _statelessResetKey,
        });
        LocalEndPoint = _socket.LocalEndPoint;
        QuicLog.EndpointBound(Logger, LocalEndPoint, options.IsListening);
        _socket.Start(this);
    }

    public TimeProvider TimeProvider { get; }

    public ILogger Logger { get; }

    public IPEndPoint LocalEndPoint { get; }

    public bool IsListening => _options.IsListening;

    public Instant Now => Instant.FromTimestamp(TimeProvider.GetTimestamp(), TimeProvider.TimestampFrequency);

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void OnDatagram(IPEndPoint remote, Span<byte> datagram)
    {
        if (IsDisposed)
        {
            return;
        }

        Instant now = Now;
        EndpointResult result;
        ConnectionDriver? driver = null;
        lock (_coreLock)
        {
            result = _core.Handle(now, remote, datagram, _response);
            if (result.Kind == EndpointResultKind.Routed)
            {
                _connections.TryGetValue(result.Handle, out driver);
            }
        }

        switch (result.Kind)
        {
            case EndpointResultKind.Routed:
                if (driver is not null && driver.HandleDatagramDeferringDrive(now, remote, datagram))
                {
                    _awaitingDrive.Add(driver);
                }

                break;
            case EndpointResultKind.NewConnection:
                StartServerConnection(result, remote, datagram, now);
                break;
            case EndpointResultKind.Response:
                _socket.Send(_response.AsSpan(0, result.ResponseLength), remote);
                break;
            case EndpointResultKind.Raw:
                if (!_raw.Writer.TryWrite(new QuicRawDatagram(datagram.ToArray(), remote)))
                {
                    QuicLog.RawDatagramDropped(Logger, remote);
                }

                break;
            default:
                break;
        }
    }

    public void OnReceiveBatchCompleted()
    {
        foreach (ConnectionDriver driver in _awaitingDrive)
        {
            driver.DriveDeferred();
        }

        _awaitingDrive.Clear();
    }

    public void OnSocketFailed(Exception exception)
    {
        QuicLog.SocketFailed(Logger, LocalEndPoint, exception);
        _ = Task.Run(async () => await DisposeAsync().ConfigureAwait(false));
    }

    public void Send(ReadOnlySpan<byte> datagram, IPEndPoint remote) => _socket.Send(datagram, remote);

    /// <inheritdoc cref="UdpSocket.SendSegments"/>
    public void SendSegments(ReadOnlySpan<byte> datagrams, int segmentSize, IPEndPoint remote) =>
        _socket.SendSegments(datagrams, segmentSize, remote);

    public void SendRaw(ReadOnlySpan<byte> datagram, IPEndPoint remote)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!_socket.Send(datagram, remote))
        {
            throw new QuicException(QuicError.HostUnreachable, null, null, $"The datagram to {remote} could not be sent.");
        }
    }

    public async ValueTask<QuicRawDatagram> ReceiveRawAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _raw.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw QuicException.OperationAborted("endpoint");
        }
    }

    public async ValueTask<QuicConnection> AcceptAsync(CancellationToken cancellationToken)
    {
        if (!IsListening)
        {
            throw new InvalidOperationException("This endpoint does not accept connections: set ServerConnectionOptions or ConnectionOptionsCallback.");
        }

        try
        {
            QuicConnection connection = await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            lock (_coreLock)
            {
                _core.OnAccepted(connection.Driver.Handle);
            }

            return connection;
        }
        catch (ChannelClosedException)
        {
            throw QuicException.OperationAborted("endpoint");
        }
    }

    public async ValueTask<QuicConnection> ConnectAsync(QuicClientConnectionOptions options, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        IPEndPoint remote = await ResolveAsync(options.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
        ConnectionDriver driver;
        lock (_coreLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            driver = new ConnectionDriver(this, _core.AddConnection(), remote, isClient: true)
            {
                DefaultStreamErrorCode = options.DefaultStreamErrorCode,
                DefaultCloseErrorCode = options.DefaultCloseErrorCode,
            };
            _connections.Add(driver.Handle, driver);
        }

        var connection = new QuicConnection(driver);
        try
        {
            var tls = new TlsClientConfig
            {
                Authentication = SslOptionsCloning.ForClient(options.ClientAuthenticationOptions, options.RemoteEndPoint),
                Groups = options.ToTlsGroups(),
                CallbackSender = connection,
            };
            Connection core = Connection.CreateClient(options.ToCoreOptions(_options.ConnectionIdLength, _statelessResetKey), tls, remote, Now);
            driver.Attach(core, Now, remote, Span<byte>.Empty);
            await driver.Handshake.WaitAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            driver.CloseAndAbandon("connection");
            driver.Abort(QuicException.OperationAborted("connection"));
            Forget(driver);
            throw;
        }
    }

    /// <summary>Applies a connection's routing change; false once it has drained.</summary>
    public bool ApplyEndpointEvent(ConnectionDriver driver, in EndpointEvent endpointEvent)
    {
        lock (_coreLock)
        {
            if (_core.ApplyEndpointEvent(driver.Handle, endpointEvent))
            {
                return true;
            }

            _connections.Remove(driver.Handle);
            return false;
        }
    }

    public void OnServerHandshakeCompleted(ConnectionDriver driver)
    {
        lock (_coreLock)
        {
            _core.OnHandshakeCompleted(driver.Handle);
        }

        QuicLog.ConnectionAccepted(Logger, driver.RemoteEndPoint);
        _accepted.Writer.TryWrite(driver.Owner);
    }

    /// <summary>A server connection died before the application accepted it: free its backlog slot.</summary>
    public void OnServerConnectionAbandoned(ConnectionDriver driver)
    {
        lock (_coreLock)
        {
            _core.OnAccepted(driver.Handle);
        }
    }

    public void Forget(ConnectionDriver driver)
    {
        lock (_coreLock)
        {
            _core.Forget(driver.Handle);
            _connections.Remove(driver.Handle);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        ConnectionDriver[] drivers;
        lock (_coreLock)
        {
            drivers = [.. _connections.Values];
        }

        foreach (ConnectionDriver driver in drivers)
        {
            driver.CloseAndAbandon("endpoint");
            driver.Abort(QuicException.OperationAborted("endpoint"));
        }

        _accepted.Writer.TryComplete();
        _raw.Writer.TryComplete();
        _socket.Dispose();
        lock (_coreLock)
        {
            _connections.Clear();
            _core.Dispose();
        }

        _disposing.Dispose();
        QuicLog.EndpointDisposed(Logger, LocalEndPoint);
    }

    private void StartServerConnection(EndpointResult result, IPEndPoint remote, Span<byte> datagram, Instant now)
    {
        var driver = new ConnectionDriver(this, result.Handle, remote, isClient: false);
        var connection = new QuicConnection(driver);
        lock (_coreLock)
        {
            _connections[result.Handle] = driver;
        }

        if (_options.ServerConnectionOptions is { } options)
        {
            CreateServerConnection(driver, options, result.Accept, remote, datagram, now);
            return;
        }

        // The callback is asynchronous: keep the Initial and create the connection once it answers. Retransmitted
        // Initials meanwhile route to the not-yet-attached driver, which drops them.
        byte[] copy = datagram.ToArray();
        ClientHelloPeek.TryReadServerName(datagram, out string? serverName);
        var clientHello = new SslClientHelloInfo(serverName ?? string.Empty, SslProtocols.Tls13);
        CancellationToken cancellationToken = _disposing.Token;
        _ = Task.Run(async () =>
        {
            QuicServerConnectionOptions chosen;
            try
            {
                chosen = await _options.ConnectionOptionsCallback!(connection, clientHello, cancellationToken)
                    .ConfigureAwait(false);
                chosen.Validate(nameof(QuicListenerOptions.ConnectionOptionsCallback));
            }
            catch (Exception exception)
            {
                QuicLog.ConnectionOptionsCallbackFailed(Logger, remote, exception);
                driver.Abort(new QuicException(QuicError.CallbackError, null, null, "The connection options callback failed.", exception));
                Forget(driver);
                RefuseConnection(copy, remote);
                return;
            }

            CreateServerConnection(driver, chosen, result.Accept, remote, copy, Now);
        });
    }

    /// <summary>Tells a client we turned away that it was refused, rather than leaving it to time out.</summary>
    private void RefuseConnection(byte[] clientInitial, IPEndPoint remote)
    {
        byte[] response = new byte[EndpointCore.MaxResponseLength];
        int length = EndpointCore.WriteConnectionRefused(clientInitial, response, "The server refused the connection.", RandomSource.Secure);
        if (length > 0)
        {
            Send(response.AsSpan(0, length), remote);
        }
    }

    private void CreateServerConnection(
        ConnectionDriver driver, QuicServerConnectionOptions options, AcceptInfo accept, IPEndPoint remote, Span<byte> datagram, Instant now)
    {
        driver.DefaultStreamErrorCode = options.DefaultStreamErrorCode;
        driver.DefaultCloseErrorCode = options.DefaultCloseErrorCode;
        Connection core;
        try
        {
            var tls = new TlsServerConfig
            {
                Authentication = SslOptionsCloning.ForServer(options.ServerAuthenticationOptions, _options.ApplicationProtocols),
                Groups = options.ToTlsGroups(),
                CallbackSender = driver.Owner,
            };
            core = Connection.CreateServer(
                options.ToCoreOptions(_options.ConnectionIdLength, _statelessResetKey),
                tls,
                remote,
                accept.OriginalDestinationConnectionId,
                accept.RetrySourceConnectionId,
                accept.AddressValidated,
                now);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            QuicLog.ConnectionCoreFailed(Logger, remote, exception);
            driver.Abort(new QuicException(QuicError.InternalError, null, null, $"The connection could not be created: {exception.Message}", exception));
            Forget(driver);
            return;
        }

        driver.Attach(core, now, remote, datagram);
    }

    private async ValueTask<IPEndPoint> ResolveAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        IPEndPoint resolved;
        if (endPoint is IPEndPoint ip)
        {
            resolved = ip;
        }
        else
        {
            var dns = (DnsEndPoint)endPoint;
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false);
            IPAddress address = addresses.FirstOrDefault(a => IsReachable(a.AddressFamily))
                ?? throw new QuicException(QuicError.HostUnreachable, null, null, $"'{dns.Host}' has no address this endpoint can reach.");
            resolved = new IPEndPoint(address, dns.Port);
        }

        if (resolved.Address.IsIPv4MappedToIPv6)
        {
            resolved = new IPEndPoint(resolved.Address.MapToIPv4(), resolved.Port);
        }

        if (!IsReachable(resolved.AddressFamily))
        {
            throw new QuicException(QuicError.InvalidAddress, null, null, $"{resolved} cannot be reached from a socket bound to {LocalEndPoint}.");
        }

        return resolved;
    }

    private bool IsReachable(AddressFamily family) =>
        family == LocalEndPoint.AddressFamily || (_socket.IsDualMode && family == AddressFamily.InterNetwork);
}
