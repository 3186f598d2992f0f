using System.Net;
using Connet.Quic.Core.Endpoint;
using Connet.Quic.Io;

namespace Connet.Quic.Tests.Api;

/// <summary>The driver's waiters, exercised before any connection core is attached.</summary>
public class ConnectionDriverTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Abort_fails_every_pending_wait_with_OperationAborted_and_later_calls_too()
    {
        await using var endpoint = new EndpointDriver(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var driver = new ConnectionDriver(endpoint, new ConnectionHandle(1), new IPEndPoint(IPAddress.Loopback, 9), isClient: true);
        var connection = new QuicConnection(driver);
        Task<QuicStream> open = connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional).AsTask();
        Task<QuicStream> accept = connection.AcceptInboundStreamAsync().AsTask();
        Assert.False(open.IsCompleted);
        Assert.False(accept.IsCompleted);

        driver.Abort(QuicException.OperationAborted("endpoint"));

        Assert.Equal(QuicError.OperationAborted, (await Assert.ThrowsAsync<QuicException>(() => open.WaitAsync(Guard))).QuicError);
        Assert.Equal(QuicError.OperationAborted, (await Assert.ThrowsAsync<QuicException>(() => accept.WaitAsync(Guard))).QuicError);
        await Assert.ThrowsAsync<QuicException>(() => connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional).AsTask());
        await driver.Closed.WaitAsync(Guard);
        await Assert.ThrowsAsync<QuicException>(() => driver.Handshake);
    }

    [Fact]
    public async Task Open_stream_honours_cancellation_while_waiting_for_the_handshake()
    {
        await using var endpoint = new EndpointDriver(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var driver = new ConnectionDriver(endpoint, new ConnectionHandle(1), new IPEndPoint(IPAddress.Loopback, 9), isClient: true);
        var connection = new QuicConnection(driver);
        using var cancellation = new CancellationTokenSource();
        Task<QuicStream> open = connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellation.Token).AsTask();

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => open.WaitAsync(Guard));
        driver.Abort(QuicException.OperationAborted("connection"));
    }

    [Fact]
    public async Task Close_before_the_core_is_attached_completes_at_once()
    {
        await using var endpoint = new EndpointDriver(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var driver = new ConnectionDriver(endpoint, new ConnectionHandle(1), new IPEndPoint(IPAddress.Loopback, 9), isClient: false);
        var connection = new QuicConnection(driver);

        await connection.CloseAsync(5).AsTask().WaitAsync(Guard);

        Assert.True(driver.Closed.IsCompletedSuccessfully);
        driver.Abort(QuicException.OperationAborted("connection"));
    }

    [Theory]
    [InlineData(true, 0L, true)]
    [InlineData(true, 1L, false)]
    [InlineData(false, 1L, true)]
    [InlineData(false, 2L, false)]
    public async Task Stream_initiator_follows_the_low_bit_of_its_id(bool isClient, long streamId, bool local)
    {
        await using var endpoint = new EndpointDriver(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var driver = new ConnectionDriver(endpoint, new ConnectionHandle(1), new IPEndPoint(IPAddress.Loopback, 9), isClient);

        Assert.Equal(local, driver.IsLocallyInitiated(streamId));
        driver.Abort(QuicException.OperationAborted("connection"));
    }
}
