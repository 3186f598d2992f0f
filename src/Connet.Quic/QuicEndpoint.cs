using System.Net;
using Connet.Quic.Io;

namespace Connet.Quic;

/// <summary>
/// One UDP socket that dials and accepts QUIC connections and carries raw datagrams, all on the same port: the
/// primitive UDP hole punching needs (both peers dial from the socket they accept on). Connet-specific.
/// </summary>
public sealed class QuicEndpoint : IAsyncDisposable
{
    /// <summary>Largest raw datagram payload UDP over IPv4 can carry.</summary>
    public const int MaxRawDatagramLength = 65507;

    private readonly EndpointDriver _driver;

    private QuicEndpoint(EndpointDriver driver) => _driver = driver;

    public IPEndPoint LocalEndPoint => _driver.LocalEndPoint;

    /// <summary>Binds the socket and starts receiving. Throws <see cref="QuicException"/> (AddressInUse) when the port is taken.</summary>
    public static QuicEndpoint Bind(QuicEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        return new QuicEndpoint(new EndpointDriver(options));
    }

    /// <summary>Dials a server from this endpoint's socket; completes once the handshake has.</summary>
    public ValueTask<QuicConnection> ConnectAsync(QuicClientConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<QuicConnection>(cancellationToken);
        }

        return _driver.ConnectAsync(options, cancellationToken);
    }

    /// <summary>The next connection whose handshake completed; QuicException(OperationAborted) once the endpoint is disposed.</summary>
    public ValueTask<QuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken = default) =>
        _driver.AcceptAsync(cancellationToken);

    /// <summary>
    /// Sends a datagram outside QUIC (a hole-punching probe, NAT-PMP). Make its first byte's 0x40 bit clear so the
    /// receiving endpoint hands it to <see cref="ReceiveRawDatagramAsync"/> instead of parsing it as QUIC.
    /// </summary>
    public ValueTask SendRawDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remoteEndPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remoteEndPoint);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(datagram.Length, MaxRawDatagramLength, nameof(datagram));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        _driver.SendRaw(datagram.Span, remoteEndPoint);
        return ValueTask.CompletedTask;
    }

    /// <summary>The next non-QUIC datagram; the oldest are dropped when the application falls behind.</summary>
    public ValueTask<QuicRawDatagram> ReceiveRawDatagramAsync(CancellationToken cancellationToken = default) =>
        _driver.ReceiveRawAsync(cancellationToken);

    /// <summary>Closes every connection (CONNECTION_CLOSE with its DefaultCloseErrorCode), then the socket.</summary>
    public ValueTask DisposeAsync() => _driver.DisposeAsync();
}
