using System.Net;
using System.Net.Sockets;
using Connet.Core.Protocol;

namespace Connet.Client.Tests;

/// <summary>Control server + destination client + source client, all on real loopback sockets.</summary>
public sealed class ConnetClientEndToEndTests
{
    [Fact]
    public async Task OneMebibyte_EchoesByteIdenticalThroughSourceAndDestination()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        var destination = await kit.StartDestinationAsync(echo.Url);
        var source = await kit.StartSourceAsync();
        await ConnetClientKit.WaitForPeerConnectionAsync(source);

        byte[] payload = TestKit.SeededPayload(1, 1024 * 1024);
        using var guard = new CancellationTokenSource(TestKit.Guard);
        byte[] echoed = await TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source), payload, guard.Token);

        Assert.Equal(payload.Length, echoed.Length);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ from the sent ones");
        Assert.Equal(1, echo.Accepted); // The bytes went through the destination's target, not around it.
        Assert.Equal(ConnetClientState.Connected, destination.GetStatus().State);
    }

    [Fact]
    public async Task FiftyConcurrentConnections_AllEchoTheirOwnBytes()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await kit.StartDestinationAsync(echo.Url);
        var source = await kit.StartSourceAsync();
        await ConnetClientKit.WaitForPeerConnectionAsync(source);
        IPEndPoint sourceAddress = ConnetClientKit.SourceAddress(source);

        using var guard = new CancellationTokenSource(TestKit.Guard);
        var payloads = Enumerable.Range(0, 50).Select(seed => TestKit.SeededPayload(seed, 16 * 1024)).ToArray();
        byte[][] echoed = await Task.WhenAll(payloads.Select(payload => TestKit.TcpRoundTripAsync(sourceAddress, payload, guard.Token)));

        for (int index = 0; index < payloads.Length; index++)
        {
            Assert.True(payloads[index].AsSpan().SequenceEqual(echoed[index]), $"connection {index} echoed different bytes");
        }

        Assert.True(echo.Accepted >= 50);
    }

    [Fact]
    public async Task Status_ShowsAddressesAndPeersInBothDirections()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        var destination = await kit.StartDestinationAsync(echo.Url);
        var source = await kit.StartSourceAsync();
        // Both sides dial and accept (simultaneous open), so each ends up with a connection in each direction.
        foreach (var client in new[] { source, destination })
        {
            await ConnetClientKit.WaitForAsync(
                client,
                status => status.Endpoints.Single().Peers.SelectMany(peer => peer.Connections).Select(connection => connection.Direction).Distinct().Count() == 2,
                "an outgoing and an incoming direct connection");
        }

        var status = source.GetStatus();
        Assert.Equal(ConnetClientState.Connected, status.State);
        Assert.NotNull(status.DirectAddress);
        Assert.Equal(status.DirectAddress, status.PublicAddress);
        Assert.Contains(status.DirectAddress, status.AdvertisedAddresses);
        var endpoint = Assert.Single(status.Endpoints);
        Assert.Equal(ConnetEndpointRole.Source, endpoint.Role);
        var peer = Assert.Single(endpoint.Peers);
        Assert.Equal(ConnetClientKit.DestinationToken, peer.Metadata);
        Assert.All(peer.Connections, connection => Assert.Equal(destination.GetStatus().DirectAddress, connection.RemoteAddress));
        Assert.All(peer.Connections, connection => Assert.Equal(ConnetAddressScope.Local, connection.RemoteScope));
    }

    [Theory]
    [InlineData("127.0.0.1", ConnetAddressScope.Local)]
    [InlineData("10.1.0.2", ConnetAddressScope.Local)]
    [InlineData("172.31.255.1", ConnetAddressScope.Local)]
    [InlineData("172.32.0.1", ConnetAddressScope.Public)]
    [InlineData("192.168.1.10", ConnetAddressScope.Local)]
    [InlineData("169.254.3.4", ConnetAddressScope.Local)]
    [InlineData("198.18.1.1", ConnetAddressScope.Public)]
    [InlineData("::ffff:10.0.0.1", ConnetAddressScope.Local)]
    [InlineData("fd00::1", ConnetAddressScope.Local)]
    [InlineData("fe80::1", ConnetAddressScope.Local)]
    [InlineData("2001:db8::1", ConnetAddressScope.Public)]
    public void AddressScope_TellsLanAddressesFromNatMappings(string address, ConnetAddressScope expected) =>
        Assert.Equal(expected, ConnetAddressScopes.Of(System.Net.IPAddress.Parse(address)));

    [Fact]
    public async Task WrongToken_StartFailsWithAuthenticationFailed()
    {
        await using var kit = await ConnetClientKit.StartAsync();
        var options = kit.Options("wrong-token");
        options.Sources["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0" };

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(() => kit.StartClientAsync(options));

        Assert.Equal(ConnetErrorCode.AuthenticationFailed, refused.Code);
        // kit.StartClientAsync registered the client before starting it, so disposal still stops it.
    }

    [Fact]
    public async Task UnreachableControl_StartReturnsAndKeepsReconnecting()
    {
        int silentPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            silentPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var options = new ConnetClientOptions
        {
            Token = "token",
            ServerAddress = $"127.0.0.1:{silentPort}",
            DirectAddress = new IPEndPoint(IPAddress.Loopback, 0),
            Sources = { ["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0" } },
        };
        await using var client = new ConnetClient(options);

        await client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);

        var status = client.GetStatus();
        Assert.Equal(ConnetClientState.Reconnecting, status.State);
        Assert.False(string.IsNullOrEmpty(status.LastError));
        Assert.NotNull(Assert.Single(status.Endpoints).SourceAddress);
        await client.StopAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        Assert.Equal(ConnetClientState.Stopped, client.GetStatus().State);
    }

    [Fact]
    public async Task WrongToken_StatusReportsAuthenticationFailed()
    {
        await using var kit = await ConnetClientKit.StartAsync();
        var options = kit.Options("wrong-token");
        options.Sources["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0" };
        await using var client = new ConnetClient(options);

        await Assert.ThrowsAsync<ConnetProtocolException>(() => client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard));

        var status = client.GetStatus();
        Assert.Equal(ConnetClientState.AuthenticationFailed, status.State);
        Assert.Contains("authentication failed", status.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlRestarts_ClientsReconnectAndTunnelsWorkAgain()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        var destination = await kit.StartDestinationAsync(echo.Url);
        var source = await kit.StartSourceAsync();
        await ConnetClientKit.WaitForPeerConnectionAsync(source);

        await kit.RestartControlAsync();
        await ConnetClientKit.WaitForAsync(source, status => status.State == ConnetClientState.Connected && kit.Control.GetStatus().Clients.Count == 2, "both clients back on the new control server");
        await ConnetClientKit.WaitForAsync(destination, status => status.State == ConnetClientState.Connected, "the destination to reconnect");
        await ConnetClientKit.WaitForPeerConnectionAsync(source);

        byte[] payload = TestKit.SeededPayload(7, 64 * 1024);
        using var guard = new CancellationTokenSource(TestKit.Guard);
        byte[] echoed = await TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source), payload, guard.Token);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ after the reconnect");
        Assert.Equal(2, kit.Control.GetStatus().Clients.Count);
    }

    [Fact]
    public async Task DestinationStops_SourceConnectionsAreClosedNotHung()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        var destination = await kit.StartDestinationAsync(echo.Url);
        var source = await kit.StartSourceAsync();
        await ConnetClientKit.WaitForPeerConnectionAsync(source);
        IPEndPoint sourceAddress = ConnetClientKit.SourceAddress(source);
        using var guard = new CancellationTokenSource(TestKit.Guard);

        // An open tunnel, proven to work before the destination goes away.
        using var open = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await open.ConnectAsync(sourceAddress, guard.Token);
        await using var openStream = new NetworkStream(open, ownsSocket: false);
        await openStream.WriteAsync(new byte[] { 1, 2, 3 }, guard.Token);
        byte[] firstEcho = new byte[3];
        await openStream.ReadExactlyAsync(firstEcho, guard.Token);
        Assert.Equal(new byte[] { 1, 2, 3 }, firstEcho);

        await destination.StopAsync(CancellationToken.None).WaitAsync(TestKit.Guard);

        Assert.True(await EndsAsync(openStream, guard.Token), "the open tunnel was not closed");
        await ConnetClientKit.WaitForAsync(
            source,
            status => status.Endpoints.Single().Peers.All(peer => peer.Connections.Count == 0),
            "the source to drop its connections to the stopped destination");

        using var late = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await late.ConnectAsync(sourceAddress, guard.Token);
        await using var lateStream = new NetworkStream(late, ownsSocket: false);
        Assert.True(await EndsAsync(lateStream, guard.Token), "a new connection was not closed");
    }

    [Fact]
    public async Task StopAsync_OfAllThree_CompletesWithLiveTunnels()
    {
        await using var echo = new TcpEchoServer();
        var kit = await ConnetClientKit.StartAsync();
        var destination = await kit.StartDestinationAsync(echo.Url);
        var source = await kit.StartSourceAsync();
        await ConnetClientKit.WaitForPeerConnectionAsync(source);
        using var guard = new CancellationTokenSource(TestKit.Guard);
        using var open = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await open.ConnectAsync(ConnetClientKit.SourceAddress(source), guard.Token);

        await source.StopAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        await destination.StopAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        await kit.DisposeAsync().AsTask().WaitAsync(TestKit.Guard);

        Assert.Equal(ConnetClientState.Stopped, source.GetStatus().State);
        Assert.Equal(ConnetClientState.Stopped, destination.GetStatus().State);
        await using var openStream = new NetworkStream(open, ownsSocket: false);
        Assert.True(await EndsAsync(openStream, guard.Token), "the source left a TCP connection open after stopping");
    }

    /// <summary>True when the stream ends (EOF or reset) before the guard; reads at most a bounded number of times.</summary>
    private static async Task<bool> EndsAsync(Stream stream, CancellationToken guard)
    {
        byte[] buffer = new byte[1024];
        for (int reads = 0; reads < 1000; reads++)
        {
            try
            {
                if (await stream.ReadAsync(buffer, guard) == 0)
                {
                    return true;
                }
            }
            catch (IOException)
            {
                return true;
            }
        }

        return false;
    }
}
