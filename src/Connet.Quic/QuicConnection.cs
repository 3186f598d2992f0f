using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Io;

namespace Connet.Quic;

/// <summary>A QUIC connection (System.Net.Quic's shape). Dial with <see cref="ConnectAsync"/> or a <see cref="QuicEndpoint"/>.</summary>
public sealed class QuicConnection : IAsyncDisposable
{
    private QuicEndpoint? _ownedEndpoint;
    private int _disposed;

    internal QuicConnection(ConnectionDriver driver)
    {
        Driver = driver;
        driver.Owner = this;
    }

    /// <summary>Always true: the stack is managed and needs no native library.</summary>
    public static bool IsSupported => true;

    public IPEndPoint LocalEndPoint => Driver.Endpoint.LocalEndPoint;

    public IPEndPoint RemoteEndPoint => Driver.RemoteEndPoint;

    /// <summary>The ALPN protocol both sides agreed on; default until the handshake completes.</summary>
    public SslApplicationProtocol NegotiatedApplicationProtocol =>
        Driver.Read(connection => new SslApplicationProtocol(connection.NegotiatedApplicationProtocol.ToArray()), default);

    public X509Certificate? RemoteCertificate => Driver.Read(connection => connection.RemoteCertificate, null);

    /// <summary>The SNI name: the one sent (client) or received (server).</summary>
    public string TargetHostName => Driver.Read(connection => connection.ServerName, null) ?? string.Empty;

    public TimeSpan SmoothedRtt => Driver.Read(connection => connection.SmoothedRtt, TimeSpan.Zero);

    internal ConnectionDriver Driver { get; }

    /// <summary>Dials from a private ephemeral socket that the connection owns and closes with it.</summary>
    public static async ValueTask<QuicConnection> ConnectAsync(QuicClientConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        cancellationToken.ThrowIfCancellationRequested();
        IPEndPoint local = options.LocalEndPoint
            ?? (options.RemoteEndPoint is IPEndPoint { AddressFamily: AddressFamily.InterNetwork }
                ? new IPEndPoint(IPAddress.Any, 0)
                : new IPEndPoint(IPAddress.IPv6Any, 0));
        QuicEndpoint endpoint = QuicEndpoint.Bind(new QuicEndpointOptions { LocalEndPoint = local });
        try
        {
            QuicConnection connection = await endpoint.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            connection._ownedEndpoint = endpoint;
            return connection;
        }
        catch
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens a stream, waiting while the peer's stream limit is reached.</summary>
    public async ValueTask<QuicStream> OpenOutboundStreamAsync(QuicStreamType type, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        StreamState stream = await Driver.OpenStreamAsync(type == QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
        return new QuicStream(Driver, stream);
    }

    /// <summary>The next stream the peer opened.</summary>
    public async ValueTask<QuicStream> AcceptInboundStreamAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        StreamState stream = await Driver.AcceptStreamAsync(cancellationToken).ConfigureAwait(false);
        return new QuicStream(Driver, stream);
    }

    /// <summary>Closes with an application error code and waits until the core reports the connection closed.</summary>
    public ValueTask CloseAsync(long errorCode, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        OptionsValidation.ErrorCode(errorCode, nameof(errorCode), nameof(errorCode));
        return Driver.CloseAsync(errorCode, cancellationToken);
    }

    /// <summary>Closes with DefaultCloseErrorCode unless already closed, and releases the socket if it owns one.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Driver.CloseAndAbandon("connection");
        if (_ownedEndpoint is not null)
        {
            await _ownedEndpoint.DisposeAsync().ConfigureAwait(false);
        }
    }

    public override string ToString() => $"QUIC {LocalEndPoint} -> {RemoteEndPoint}";
}
