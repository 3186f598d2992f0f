using System.Net;
using Connet.Client.Tunnels;
using Connet.Client.Tunnels.Sources;

namespace Connet.Client.Tests.Sources;

/// <summary>Load-balancing policies and retries observed end to end: one source, two destination clients of one endpoint.</summary>
public sealed class LoadBalancingTests
{
    [Fact]
    public async Task Round_robin_alternates_between_the_destinations()
    {
        await using var first = new TcpEchoServer();
        await using var second = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, first.Url);
        await SourceKit.StartDestinationAsync(kit, second.Url);
        var source = await SourceKit.StartSourceAsync(kit, "tcp://127.0.0.1:0", options => options.LoadBalancePolicy = ConnetLoadBalancePolicy.RoundRobin);
        await SourceKit.WaitForDestinationsAsync(source, 2);

        int echoed = await RoundTripsAsync(ConnetClientKit.SourceAddress(source), 6);

        Assert.Equal(6, echoed);
        Assert.Equal(3, first.Accepted);
        Assert.Equal(3, second.Accepted);
    }

    [Fact]
    public async Task Least_connections_sends_the_next_connection_to_the_idle_destination()
    {
        await using var first = new TcpEchoServer();
        await using var second = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, first.Url);
        await SourceKit.StartDestinationAsync(kit, second.Url);
        var source = await SourceKit.StartSourceAsync(kit, "tcp://127.0.0.1:0", options => options.LoadBalancePolicy = ConnetLoadBalancePolicy.LeastConnections);
        await SourceKit.WaitForDestinationsAsync(source, 2);
        IPEndPoint address = ConnetClientKit.SourceAddress(source);
        using var guard = new CancellationTokenSource(TestKit.Guard);

        // Held open: each counts as a tunnel to its destination while the next one is placed.
        using var held1 = await HoldOpenAsync(address, guard.Token);
        using var held2 = await HoldOpenAsync(address, guard.Token);

        Assert.Equal(1, first.Accepted);
        Assert.Equal(1, second.Accepted);
    }

    [Fact]
    public async Task Random_and_least_latency_reach_a_destination_for_every_connection()
    {
        foreach (var policy in new[] { ConnetLoadBalancePolicy.Random, ConnetLoadBalancePolicy.LeastLatency })
        {
            await using var first = new TcpEchoServer();
            await using var second = new TcpEchoServer();
            await using var kit = await ConnetClientKit.StartAsync();
            await SourceKit.StartDestinationAsync(kit, first.Url);
            await SourceKit.StartDestinationAsync(kit, second.Url);
            var source = await SourceKit.StartSourceAsync(kit, "tcp://127.0.0.1:0", options => options.LoadBalancePolicy = policy);
            await SourceKit.WaitForDestinationsAsync(source, 2);

            int echoed = await RoundTripsAsync(ConnetClientKit.SourceAddress(source), 4);

            Assert.Equal(4, echoed);
            Assert.Equal(4, first.Accepted + second.Accepted);
        }
    }

    [Fact]
    public async Task Retry_count_fails_over_from_a_dead_destination()
    {
        await using var live = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, $"tcp://127.0.0.1:{TestKit.ClosedPort()}");
        await SourceKit.StartDestinationAsync(kit, live.Url);
        var source = await SourceKit.StartSourceAsync(kit, "tcp://127.0.0.1:0", options =>
        {
            options.LoadBalancePolicy = ConnetLoadBalancePolicy.RoundRobin;
            options.LoadBalanceRetry = ConnetLoadBalanceRetry.Count;
        });
        await SourceKit.WaitForDestinationsAsync(source, 2);

        int echoed = await RoundTripsAsync(ConnetClientKit.SourceAddress(source), 4);

        Assert.Equal(4, echoed);
        Assert.Equal(4, live.Accepted);
    }

    [Fact]
    public async Task Retry_never_surfaces_a_dead_destination_as_a_closed_connection()
    {
        await using var live = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, $"tcp://127.0.0.1:{TestKit.ClosedPort()}");
        await SourceKit.StartDestinationAsync(kit, live.Url);
        var source = await SourceKit.StartSourceAsync(kit, "tcp://127.0.0.1:0", options => options.LoadBalancePolicy = ConnetLoadBalancePolicy.RoundRobin);
        await SourceKit.WaitForDestinationsAsync(source, 2);

        // Round-robin puts one of two consecutive connections on the dead destination, and nothing retries it.
        int echoed = await RoundTripsAsync(ConnetClientKit.SourceAddress(source), 2);

        Assert.Equal(1, echoed);
        Assert.Equal(1, live.Accepted);
    }

    [Fact]
    public async Task Dial_timeout_bounds_an_attempt_on_a_destination_that_never_answers()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard / 2);
        await using var echo = new TcpEchoServer();
        await using var source = PeerSide.Create();
        await using var silent = PeerSide.Create(async cancellationToken =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        });
        await using var working = PeerSide.Create(TcpDestination.Dialer(echo.Url));
        PeerSide.Introduce(source, silent);
        PeerSide.Introduce(source, working);
        await using var toSilent = await source.DialAsync(silent, timeout.Token);
        await using var toWorking = await source.DialAsync(working, timeout.Token);
        SourceDestination[] destinations = [new("a-silent", [toSilent]), new("b-working", [toWorking])];
        var bounded = new TunnelOpener(
            () => destinations,
            new TunnelOpenerOptions(ConnetLoadBalancePolicy.RoundRobin, ConnetLoadBalanceRetry.All, DialTimeout: AttemptBound),
            logger: source.Logger);
        var never = new TunnelOpener(
            () => [destinations[0]],
            new TunnelOpenerOptions(ConnetLoadBalancePolicy.RoundRobin, ConnetLoadBalanceRetry.Never, DialTimeout: AttemptBound),
            logger: source.Logger);

        // The first round-robin pick is the silent one: only a bounded attempt lets the retry reach the working one
        // before this test's own deadline (the unbounded default is 30 s).
        await using (SourceTunnel? tunnel = await bounded.OpenAsync("test", timeout.Token))
        {
            Assert.NotNull(tunnel);
            Assert.StartsWith("b-working", tunnel.Destination, StringComparison.Ordinal);
            await tunnel.WriteAsync(new byte[] { 42 }, timeout.Token);
            byte[] one = new byte[1];
            await tunnel.ReadExactlyAsync(one, timeout.Token);
            Assert.Equal(42, one[0]);
        }

        Assert.Null(await never.OpenAsync("test", timeout.Token));
        Assert.Equal(1, echo.Accepted);
        Assert.Equal(0, bounded.OpenTunnels("b-working")); // Released on disposal.
    }

    /// <summary>Short next to the test's deadline, long enough for a loaded machine to open a working tunnel.</summary>
    private static readonly TimeSpan AttemptBound = TimeSpan.FromSeconds(2);

    /// <summary>Sequential round trips; the number that echoed their bytes (a closed connection echoes none).</summary>
    private static async Task<int> RoundTripsAsync(IPEndPoint address, int count)
    {
        using var guard = new CancellationTokenSource(TestKit.Guard);
        int echoed = 0;
        for (int index = 0; index < count; index++)
        {
            byte[] payload = TestKit.SeededPayload(index, 1024);
            byte[] answer = await TestKit.TcpRoundTripAsync(address, payload, guard.Token);
            if (payload.AsSpan().SequenceEqual(answer))
            {
                echoed++;
            }
        }

        return echoed;
    }

    /// <summary>A connection proven tunnelled by one echoed byte, left open.</summary>
    private static async Task<System.Net.Sockets.Socket> HoldOpenAsync(IPEndPoint address, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(address, cancellationToken);
        await socket.SendAsync(new byte[] { 7 }, cancellationToken);
        byte[] one = new byte[1];
        Assert.Equal(1, await socket.ReceiveAsync(one, cancellationToken));
        return socket;
    }
}
