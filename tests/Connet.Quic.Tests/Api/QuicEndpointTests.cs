using Connet.Quic.Tests.Crypto;
using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Connet.Quic.Tests.Endpoint;

namespace Connet.Quic.Tests.Api;

public class QuicEndpointTests
{
    /// <summary>Guards against hangs only; nothing asserts how long anything took.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);

    private static QuicEndpoint BindLoopback(Action<QuicEndpointOptions>? configure = null)
    {
        var options = new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        configure?.Invoke(options);
        return QuicEndpoint.Bind(options);
    }

    private static QuicServerConnectionOptions ServerOptions() => new()
    {
        ServerAuthenticationOptions = new SslServerAuthenticationOptions { ApplicationProtocols = [new SslApplicationProtocol("test")] },
        DefaultCloseErrorCode = 0,
        DefaultStreamErrorCode = 0,
    };

    [Fact]
    public async Task Binds_to_an_ephemeral_port_and_disposes_cleanly_twice()
    {
        QuicEndpoint endpoint = BindLoopback();

        Assert.Equal(IPAddress.Loopback, endpoint.LocalEndPoint.Address);
        Assert.NotEqual(0, endpoint.LocalEndPoint.Port);
        await endpoint.DisposeAsync();
        await endpoint.DisposeAsync();
    }

    /// <summary>
    /// Disposal racing the receive thread's socket setup once threw on that thread and ended the process (seen in
    /// CI); many immediate disposals give the race its chances. Failing means the test host crashes.
    /// </summary>
    [Fact]
    public async Task Disposing_right_after_binding_many_times_never_takes_the_process_down()
    {
        for (int round = 0; round < 200; round++)
        {
            QuicEndpoint endpoint = BindLoopback();
            await endpoint.DisposeAsync().AsTask().WaitAsync(Guard);
        }

        await using QuicEndpoint survivor = BindLoopback();
        Assert.NotEqual(0, survivor.LocalEndPoint.Port);
    }

    [Fact]
    public async Task Binding_a_taken_port_throws_AddressInUse()
    {
        await using QuicEndpoint first = BindLoopback();

        var exception = Assert.Throws<QuicException>(() => BindLoopback(options => options.LocalEndPoint = first.LocalEndPoint));

        Assert.Equal(QuicError.AddressInUse, exception.QuicError);
    }

    [Fact]
    public async Task Raw_datagrams_round_trip_between_two_endpoints_and_quic_looking_ones_are_not_raw()
    {
        await using QuicEndpoint a = BindLoopback();
        await using QuicEndpoint b = BindLoopback();

        // Fixed bit set: parsed as QUIC (and dropped), so it must not overtake the raw one in b's raw queue.
        await a.SendRawDatagramAsync(new byte[] { 0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, b.LocalEndPoint);
        await a.SendRawDatagramAsync(new byte[] { 0x00, 0xCA, 0xFE }, b.LocalEndPoint);
        QuicRawDatagram received = await b.ReceiveRawDatagramAsync().AsTask().WaitAsync(Guard);

        Assert.Equal(new byte[] { 0x00, 0xCA, 0xFE }, received.Data.ToArray());
        Assert.Equal(a.LocalEndPoint, received.RemoteEndPoint);

        await b.SendRawDatagramAsync(new byte[] { 0x01, 0x02 }, received.RemoteEndPoint);
        QuicRawDatagram reply = await a.ReceiveRawDatagramAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(new byte[] { 0x01, 0x02 }, reply.Data.ToArray());
    }

    [Fact]
    public async Task Dual_mode_endpoint_reports_ipv4_senders_as_ipv4()
    {
        await using QuicEndpoint dual = QuicEndpoint.Bind(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.IPv6Any, 0) });
        await using QuicEndpoint v4 = BindLoopback();

        await v4.SendRawDatagramAsync(new byte[] { 0x00, 7 }, new IPEndPoint(IPAddress.Loopback, dual.LocalEndPoint.Port));
        QuicRawDatagram received = await dual.ReceiveRawDatagramAsync().AsTask().WaitAsync(Guard);

        Assert.Equal(v4.LocalEndPoint, received.RemoteEndPoint);
        await dual.SendRawDatagramAsync(new byte[] { 0x00, 8 }, received.RemoteEndPoint);
        Assert.Equal(new byte[] { 0x00, 8 }, (await v4.ReceiveRawDatagramAsync().AsTask().WaitAsync(Guard)).Data.ToArray());
    }

    [Fact]
    public async Task Disposal_fails_pending_accept_and_raw_receive_with_OperationAborted()
    {
        QuicEndpoint endpoint = BindLoopback(options => options.ServerConnectionOptions = ServerOptions());
        ValueTask<QuicConnection> accept = endpoint.AcceptConnectionAsync();
        ValueTask<QuicRawDatagram> raw = endpoint.ReceiveRawDatagramAsync();
        Assert.False(accept.IsCompleted);

        await endpoint.DisposeAsync();

        var acceptFailure = await Assert.ThrowsAsync<QuicException>(() => accept.AsTask().WaitAsync(Guard));
        Assert.Equal(QuicError.OperationAborted, acceptFailure.QuicError);
        var rawFailure = await Assert.ThrowsAsync<QuicException>(() => raw.AsTask().WaitAsync(Guard));
        Assert.Equal(QuicError.OperationAborted, rawFailure.QuicError);
        var later = await Assert.ThrowsAsync<QuicException>(() => endpoint.AcceptConnectionAsync().AsTask().WaitAsync(Guard));
        Assert.Equal(QuicError.OperationAborted, later.QuicError);
    }

    [Fact]
    public async Task Accept_on_a_dial_only_endpoint_is_an_error()
    {
        await using QuicEndpoint endpoint = BindLoopback();

        await Assert.ThrowsAsync<InvalidOperationException>(() => endpoint.AcceptConnectionAsync().AsTask());
    }

    [Fact]
    public async Task Accept_honours_cancellation()
    {
        await using QuicEndpoint endpoint = BindLoopback(options => options.ServerConnectionOptions = ServerOptions());
        using var cancellation = new CancellationTokenSource();
        ValueTask<QuicConnection> accept = endpoint.AcceptConnectionAsync(cancellation.Token);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accept.AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task ConnectAsync_honours_an_already_cancelled_token()
    {
        await using QuicEndpoint endpoint = BindLoopback();
        var options = new QuicClientConnectionOptions
        {
            RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 9),
            ClientAuthenticationOptions = new SslClientAuthenticationOptions { ApplicationProtocols = [new SslApplicationProtocol("test")] },
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => endpoint.ConnectAsync(options, new CancellationToken(true)).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => QuicConnection.ConnectAsync(options, new CancellationToken(true)).AsTask());
    }

    [Fact]
    public async Task Listening_endpoint_answers_an_unknown_version_with_version_negotiation_over_udp()
    {
        await using QuicEndpoint endpoint = BindLoopback(options => options.ServerConnectionOptions = ServerOptions());
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] dcid = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] scid = [5, 5, 5];

        await client.SendToAsync(EndpointTestPackets.LongHeader(0x0a0a0a0a, dcid, scid, 1200), endpoint.LocalEndPoint);
        byte[] buffer = new byte[1500];
        int length = await client.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Guard);

        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(1)));
        Assert.Equal(scid, buffer.AsSpan(6, buffer[5]).ToArray());
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(length - 4)));
    }

    [Fact]
    public async Task Unknown_short_header_gets_a_stateless_reset_derived_from_the_configured_key()
    {
        byte[] key = new byte[32];
        key[5] = 5;
        await using QuicEndpoint endpoint = BindLoopback(options => options.StatelessResetKey = key);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] dcid = [9, 8, 7, 6, 5, 4, 3, 2];

        await client.SendToAsync(EndpointTestPackets.ShortHeader(dcid, 80), endpoint.LocalEndPoint);
        byte[] buffer = new byte[1500];
        int length = await client.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Guard);

        Assert.InRange(length, 21, 79);
        byte[] token = new byte[16];
        Core.StatelessResetToken.Derive(key, dcid).CopyTo(token);
        Assert.Equal(token, buffer.AsSpan(length - 16, 16).ToArray());
    }

    [Fact]
    public async Task Options_callback_sees_the_client_and_its_sni_and_a_failing_connection_leaves_the_endpoint_working()
    {
        var called = new TaskCompletionSource<(IPEndPoint Remote, string ServerName)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using QuicEndpoint server = BindLoopback(options => options.ConnectionOptionsCallback = (connection, hello, _) =>
        {
            called.TrySetResult((connection.RemoteEndPoint, hello.ServerName));
            throw new InvalidOperationException("no options for you");
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        await client.SendToAsync(Hex.Bytes(Rfc9001Vectors.ClientInitialProtected), server.LocalEndPoint);
        (IPEndPoint remote, string serverName) = await called.Task.WaitAsync(Guard);
        Assert.Equal(client.LocalEndPoint, remote);
        Assert.Equal("example.com", serverName);

        await client.SendToAsync(new byte[] { 0x00, 0x42 }, server.LocalEndPoint);
        QuicRawDatagram raw = await server.ReceiveRawDatagramAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(new byte[] { 0x00, 0x42 }, raw.Data.ToArray());
    }

    [Fact]
    public async Task Sent_and_received_datagrams_are_counted_on_the_Connet_Quic_meter()
    {
        long sentBytes = 0;
        long receivedDatagrams = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Connet.Quic")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "connet.quic.bytes_sent")
            {
                Interlocked.Add(ref sentBytes, value);
            }
            else if (instrument.Name == "connet.quic.datagrams_received")
            {
                Interlocked.Add(ref receivedDatagrams, value);
            }
        });
        listener.Start();
        await using QuicEndpoint a = BindLoopback();
        await using QuicEndpoint b = BindLoopback();

        await a.SendRawDatagramAsync(new byte[777], b.LocalEndPoint);
        await b.ReceiveRawDatagramAsync().AsTask().WaitAsync(Guard);

        // Other tests may send concurrently, so only a lower bound is certain.
        Assert.True(Interlocked.Read(ref sentBytes) >= 777);
        Assert.True(Interlocked.Read(ref receivedDatagrams) >= 1);
    }
}
