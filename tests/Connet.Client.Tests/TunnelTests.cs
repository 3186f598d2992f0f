using System.Net;
using System.Net.Sockets;
using Connet.Client.Peers;
using Connet.Client.Tunnels;
using Connet.Core.Protocol;
using Microsoft.Extensions.Logging;

namespace Connet.Client.Tests;

/// <summary>
/// Source (TcpSource on peer a) → direct QUIC connection → destination (peer b, target a TCP echo server), all on
/// 127.0.0.1 with real sockets.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes the fixture through IAsyncLifetime.DisposeAsync.")]
public sealed class TunnelTests : IAsyncLifetime
{
    private TcpEchoServer _echo = null!;
    private PeerSide _source = null!;
    private PeerSide _destination = null!;
    private PeerConnection _connection = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        _echo = new TcpEchoServer();
        _source = PeerSide.Create();
        _destination = PeerSide.Create(TcpDestination.Dialer(_echo.Url));
        PeerSide.Introduce(_source, _destination);
        _connection = await _source.DialAsync(_destination, timeout.Token);
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _source.DisposeAsync();
        await _destination.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task Ten_mebibytes_through_one_tcp_connection_arrive_byte_identical()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using TcpSource source = await StartSourceAsync(timeout.Token);
        byte[] payload = TestKit.SeededPayload(10, 10 * 1024 * 1024);

        byte[] echoed = await TestKit.TcpRoundTripAsync(source.LocalEndPoint, payload, timeout.Token);

        Assert.Equal(payload.Length, echoed.Length);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ from the sent ones");
    }

    [Fact]
    public async Task Two_hundred_concurrent_tcp_connections_each_echo_their_own_bytes()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using TcpSource source = await StartSourceAsync(timeout.Token);
        const int connections = 200;
        byte[][] payloads = [.. Enumerable.Range(0, connections).Select(seed => TestKit.SeededPayload(seed, 16 * 1024))];

        byte[][] echoed = await Task.WhenAll(payloads.Select(payload => TestKit.TcpRoundTripAsync(source.LocalEndPoint, payload, timeout.Token)));

        for (int i = 0; i < connections; i++)
        {
            Assert.True(payloads[i].AsSpan().SequenceEqual(echoed[i]), $"connection {i} got back different bytes");
        }

        Assert.Equal(connections, _echo.Accepted);
    }

    [Fact]
    public async Task Half_close_from_the_tcp_client_still_lets_the_reply_through()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using TcpSource source = await StartSourceAsync(timeout.Token);
        byte[] payload = TestKit.SeededPayload(7, 100_000);

        // TcpRoundTripAsync shuts down its sending side before reading: the echo must still come back in full, then EOF.
        byte[] echoed = await TestKit.TcpRoundTripAsync(source.LocalEndPoint, payload, timeout.Token);

        Assert.Equal(payload, echoed);
    }

    [Fact]
    public async Task Refusing_target_gives_the_source_destination_dial_failed_and_closes_the_tcp_client()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var refusing = PeerSide.Create(TcpDestination.Dialer($"tcp://127.0.0.1:{TestKit.ClosedPort()}", TimeSpan.FromSeconds(5)));
        PeerSide.Introduce(_source, refusing);
        await using PeerConnection connection = await _source.DialAsync(refusing, timeout.Token);

        var direct = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await PeerTunnel.OpenAsync(connection, timeout.Token));
        Assert.Equal(ConnetErrorCode.DestinationDialFailed, direct.Code);

        await using TcpSource source = await TcpSource.StartAsync("tcp://127.0.0.1:0", () => [connection], _source.Logger, cancellationToken: timeout.Token);
        byte[] echoed = await TestKit.TcpRoundTripAsync(source.LocalEndPoint, [1, 2, 3], timeout.Token);

        Assert.Empty(echoed); // Closed by the source, not left hanging.
        Assert.Contains(_source.Logger.Entries, entry => entry.Level == LogLevel.Error && entry.Message.Contains(nameof(ConnetErrorCode.DestinationDialFailed), StringComparison.Ordinal));
        Assert.Contains(refusing.Logger.Entries, entry => entry.Level == LogLevel.Warning && entry.Message.Contains("dial", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Source_without_connections_closes_the_tcp_client_and_logs_it()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using TcpSource source = await TcpSource.StartAsync("tcp://127.0.0.1:0", () => [], _source.Logger, cancellationToken: timeout.Token);

        byte[] echoed = await TestKit.TcpRoundTripAsync(source.LocalEndPoint, [1], timeout.Token);

        Assert.Empty(echoed);
        Assert.Contains(_source.Logger.Entries, entry => entry.Level == LogLevel.Error && entry.Message.Contains("No usable peer connection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Source_skips_a_disposed_connection_and_tunnels_over_the_next_one()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var other = PeerSide.Create(TcpDestination.Dialer(_echo.Url));
        PeerSide.Introduce(_source, other);
        PeerConnection dead = await _source.DialAsync(other, timeout.Token);
        await dead.DisposeAsync();
        // Listed first and (being unmeasured since disposal) possibly lowest in RTT: either way it must be skipped.
        await using TcpSource source = await TcpSource.StartAsync("tcp://127.0.0.1:0", () => [dead, _connection], _source.Logger, cancellationToken: timeout.Token);
        byte[] payload = TestKit.SeededPayload(3, 1000);

        byte[] echoed = await TestKit.TcpRoundTripAsync(source.LocalEndPoint, payload, timeout.Token);

        Assert.Equal(payload, echoed);
    }

    [Fact]
    public async Task Target_resetting_mid_stream_ends_the_source_tcp_connection_instead_of_leaving_it_hanging()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        using var resetting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        resetting.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        resetting.Listen(1);
        await using var destination = PeerSide.Create(TcpDestination.Dialer($"tcp://127.0.0.1:{((IPEndPoint)resetting.LocalEndPoint!).Port}"));
        PeerSide.Introduce(_source, destination);
        await using PeerConnection connection = await _source.DialAsync(destination, timeout.Token);
        await using TcpSource source = await TcpSource.StartAsync("tcp://127.0.0.1:0", () => [connection], _source.Logger, cancellationToken: timeout.Token);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(source.LocalEndPoint, timeout.Token);
        await client.SendAsync(new byte[] { 1 }, timeout.Token);

        // The target reads the first byte, then aborts its connection (RST), as a crashing service would.
        using (Socket target = await resetting.AcceptAsync(timeout.Token))
        {
            Assert.Equal(1, await target.ReceiveAsync(new byte[1], timeout.Token));
            target.LingerState = new LingerOption(true, 0);
        }

        int read;
        try
        {
            read = await client.ReceiveAsync(new byte[16], timeout.Token);
        }
        catch (SocketException)
        {
            read = 0; // Reset: also an end.
        }

        Assert.Equal(0, read);
    }

    [Fact]
    public async Task Destination_that_never_answers_is_given_up_on_after_the_open_timeout()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var silent = PeerSide.Create(async cancellationToken =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        });
        PeerSide.Introduce(_source, silent);
        await using PeerConnection connection = await _source.DialAsync(silent, timeout.Token);
        await using TcpSource source = await TcpSource.StartAsync("tcp://127.0.0.1:0", () => [connection], _source.Logger, TimeSpan.FromMilliseconds(200), cancellationToken: timeout.Token);

        byte[] echoed = await TestKit.TcpRoundTripAsync(source.LocalEndPoint, [1], timeout.Token);

        Assert.Empty(echoed);
        Assert.Contains(_source.Logger.Entries, entry => entry.Level == LogLevel.Error && entry.Message.Contains("no answer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Disposing_everything_with_tunnels_open_completes_and_the_tcp_clients_see_the_end()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        TcpSource source = await StartSourceAsync(timeout.Token);
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 5; i++)
            {
                var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
                clients.Add(client);
                await client.ConnectAsync(source.LocalEndPoint, timeout.Token);
                // One round trip proves the tunnel is established end to end before the teardown.
                await client.SendAsync(new byte[] { (byte)i }, timeout.Token);
                byte[] one = new byte[1];
                Assert.Equal(1, await client.ReceiveAsync(one, timeout.Token));
            }

            await source.DisposeAsync().AsTask().WaitAsync(timeout.Token);
            await _destination.DisposeAsync().AsTask().WaitAsync(timeout.Token);
            await _source.DisposeAsync().AsTask().WaitAsync(timeout.Token);

            foreach (Socket client in clients)
            {
                int read;
                try
                {
                    read = await client.ReceiveAsync(new byte[16], timeout.Token);
                }
                catch (SocketException)
                {
                    read = 0; // Reset instead of FIN: also an end, not a hang.
                }

                Assert.Equal(0, read);
            }
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    private Task<TcpSource> StartSourceAsync(CancellationToken cancellationToken) =>
        TcpSource.StartAsync("tcp://127.0.0.1:0", () => [_connection], _source.Logger, cancellationToken: cancellationToken).AsTask();
}
