using System.Net;
using System.Net.Sockets;
using Connet.Relay;

namespace Connet.Client.Tests;

/// <summary>
/// A control server with a relay ingress, a <see cref="RelayServer"/> and two <see cref="ConnetClient"/>s, all on
/// loopback with real sockets: routes, relay encryption, many connections and a relay going away mid-transfer.
/// </summary>
public sealed class RelayEndToEndTests
{
    private const string Endpoint = "svc";

    public static TheoryData<ConnetRoute, ConnetRoute, bool> Routes => new()
    {
        { ConnetRoute.Any, ConnetRoute.Any, true },
        { ConnetRoute.Any, ConnetRoute.Direct, true },
        { ConnetRoute.Any, ConnetRoute.Relay, true },
        { ConnetRoute.Direct, ConnetRoute.Any, true },
        { ConnetRoute.Direct, ConnetRoute.Direct, true },
        { ConnetRoute.Direct, ConnetRoute.Relay, false },
        { ConnetRoute.Relay, ConnetRoute.Any, true },
        { ConnetRoute.Relay, ConnetRoute.Direct, false },
        { ConnetRoute.Relay, ConnetRoute.Relay, true },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Route_matrix(ConnetRoute sourceRoute, ConnetRoute destinationRoute, bool works)
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync(withRelayIngress: true);
        await using var relay = await kit.StartRelayAsync();
        ConnetClient destination = await kit.StartClientAsync(DestinationOptions(kit, echo.Url, destinationRoute));
        ConnetClient source = await kit.StartClientAsync(SourceOptions(kit, sourceRoute));

        // Settled: the source knows the destination and every relay the routes allow is connected on both sides.
        await ConnetClientKit.WaitForAsync(source, status => Status(status).Peers.Count == 1, "the destination announced to the source");
        await WaitForRelaysAsync(source, sourceRoute);
        await WaitForRelaysAsync(destination, destinationRoute);
        if (works)
        {
            bool relayOnly = sourceRoute == ConnetRoute.Relay || destinationRoute == ConnetRoute.Relay;
            bool directOnly = sourceRoute == ConnetRoute.Direct || destinationRoute == ConnetRoute.Direct;
            await ConnetClientKit.WaitForAsync(
                source,
                status => Status(status).Peers.Single().Connections.Any(connection => (connection.Direction == ConnetPeerConnectionDirection.Relay) == relayOnly),
                relayOnly ? "a relay path" : "a direct path");
            byte[] payload = TestKit.SeededPayload(1, 100_000);

            byte[] echoed = await TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source), payload, timeout.Token);

            Assert.Equal(payload, echoed);
            var paths = Status(source.GetStatus()).Peers.Single().Connections;
            Assert.Equal(relayOnly, paths.All(connection => connection.Direction == ConnetPeerConnectionDirection.Relay));
            Assert.Equal(directOnly, paths.All(connection => connection.Direction != ConnetPeerConnectionDirection.Relay));
        }
        else
        {
            byte[] echoed = await TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source), [1, 2, 3], timeout.Token);

            Assert.Empty(echoed); // Closed at once: no path, and no hang.
            Assert.Empty(Status(source.GetStatus()).Peers.Single().Connections);
            Assert.Equal(0, echo.Accepted);
        }
    }

    [Theory]
    [InlineData(ConnetRelayEncryption.None)]
    [InlineData(ConnetRelayEncryption.Tls)]
    [InlineData(ConnetRelayEncryption.Dhxcp)]
    public async Task Ten_mebibytes_through_the_relay_arrive_byte_identical(ConnetRelayEncryption encryption)
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync(withRelayIngress: true);
        await using var relay = await kit.StartRelayAsync();
        await kit.StartClientAsync(DestinationOptions(kit, echo.Url, ConnetRoute.Relay, encryption));
        ConnetClient source = await kit.StartClientAsync(SourceOptions(kit, ConnetRoute.Relay, encryption));
        await WaitForRelayPathAsync(source);
        byte[] payload = TestKit.SeededPayload(10, 10 * 1024 * 1024);

        byte[] echoed = await TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source), payload, timeout.Token);

        Assert.Equal(payload.Length, echoed.Length);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ from the sent ones");
    }

    [Fact]
    public async Task Encryption_mismatch_closes_the_tcp_connection_without_reaching_the_target()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync(withRelayIngress: true);
        await using var relay = await kit.StartRelayAsync();
        await kit.StartClientAsync(DestinationOptions(kit, echo.Url, ConnetRoute.Relay, ConnetRelayEncryption.None));
        ConnetClient source = await kit.StartClientAsync(SourceOptions(kit, ConnetRoute.Relay, ConnetRelayEncryption.Tls));
        await WaitForRelayPathAsync(source);

        byte[] echoed = await TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source), [1, 2, 3], timeout.Token);

        Assert.Empty(echoed);
        Assert.Equal(0, echo.Accepted);
    }

    [Fact]
    public async Task Two_hundred_concurrent_tcp_connections_through_the_relay_each_echo_their_own_bytes()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync(withRelayIngress: true);
        await using var relay = await kit.StartRelayAsync();
        await kit.StartClientAsync(DestinationOptions(kit, echo.Url, ConnetRoute.Relay));
        ConnetClient source = await kit.StartClientAsync(SourceOptions(kit, ConnetRoute.Relay));
        await WaitForRelayPathAsync(source);
        const int connections = 200;
        byte[][] payloads = [.. Enumerable.Range(0, connections).Select(seed => TestKit.SeededPayload(seed, 16 * 1024))];

        byte[][] echoed = await Task.WhenAll(payloads.Select(payload => TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source), payload, timeout.Token)));

        for (int i = 0; i < connections; i++)
        {
            Assert.True(payloads[i].AsSpan().SequenceEqual(echoed[i]), $"connection {i} got back different bytes");
        }

        Assert.Equal(connections, echo.Accepted);
    }

    [Fact]
    public async Task Relay_stopping_mid_transfer_closes_the_relayed_connection_and_the_next_one_goes_direct()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var relayedEcho = new TcpEchoServer();
        await using var directEcho = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync(withRelayIngress: true);
        var relay = await kit.StartRelayAsync();
        try
        {
            // Only a relay path at first: the first destination instance takes no direct connections.
            await kit.StartClientAsync(DestinationOptions(kit, relayedEcho.Url, ConnetRoute.Relay));
            ConnetClient source = await kit.StartClientAsync(SourceOptions(kit, ConnetRoute.Any));
            await WaitForRelayPathAsync(source);
            using var inFlight = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await inFlight.ConnectAsync(ConnetClientKit.SourceAddress(source), timeout.Token);
            await using var inFlightStream = new NetworkStream(inFlight, ownsSocket: false);
            byte[] first = TestKit.SeededPayload(1, 50_000);
            await inFlightStream.WriteAsync(first, timeout.Token);
            await ReadExactlyAsync(inFlightStream, first, timeout.Token);
            Assert.Equal(1, relayedEcho.Accepted);

            // A second instance of the destination that the source can reach directly.
            await kit.StartClientAsync(DestinationOptions(kit, directEcho.Url, ConnetRoute.Direct));
            await ConnetClientKit.WaitForAsync(
                source,
                status => Status(status).Peers.Any(peer => peer.Connections.Any(connection => connection.Direction != ConnetPeerConnectionDirection.Relay)),
                "a direct connection to the second destination");

            await relay.DisposeAsync().AsTask().WaitAsync(timeout.Token);

            // The relayed connection is closed (EOF or reset), never left hanging.
            byte[] buffer = new byte[64 * 1024];
            int total = 0;
            try
            {
                for (int reads = 0; reads < 10_000; reads++)
                {
                    int read = await inFlightStream.ReadAsync(buffer, timeout.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }
            }
            catch (IOException)
            {
                // Reset: closed visibly too.
            }

            Assert.Equal(0, total);
            byte[] payload = TestKit.SeededPayload(2, 100_000);
            byte[] echoed = await TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source), payload, timeout.Token);
            Assert.Equal(payload, echoed);
            Assert.Equal(1, directEcho.Accepted);
            Assert.Equal(1, relayedEcho.Accepted);
        }
        finally
        {
            await relay.DisposeAsync();
        }
    }

    private static ConnetEndpointStatus Status(ConnetClientStatus status) => status.Endpoints.Single(endpoint => endpoint.Name == Endpoint);

    private static ConnetClientOptions DestinationOptions(ConnetClientKit kit, string target, ConnetRoute route, ConnetRelayEncryption encryption = ConnetRelayEncryption.None)
    {
        var options = kit.Options(ConnetClientKit.DestinationToken);
        options.Destinations[Endpoint] = new ConnetEndpointOptions { Url = target, Route = route, RelayEncryptions = [encryption] };
        return options;
    }

    private static ConnetClientOptions SourceOptions(ConnetClientKit kit, ConnetRoute route, ConnetRelayEncryption encryption = ConnetRelayEncryption.None)
    {
        var options = kit.Options(ConnetClientKit.SourceToken);
        options.RelayEncryptions = [encryption];
        options.Sources[Endpoint] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0", Route = route };
        return options;
    }

    private static Task WaitForRelaysAsync(ConnetClient client, ConnetRoute route) =>
        route == ConnetRoute.Direct
            ? Task.CompletedTask
            : ConnetClientKit.WaitForAsync(client, status => Status(status).Relays.Count == 1 && Status(status).Relays.All(relay => relay.Connected), "the relay connected");

    private static Task WaitForRelayPathAsync(ConnetClient source) =>
        ConnetClientKit.WaitForAsync(
            source,
            status => Status(status).Peers.Any(peer => peer.Connections.Any(connection => connection.Direction == ConnetPeerConnectionDirection.Relay)),
            "a relay path to the destination");

    private static async Task ReadExactlyAsync(Stream stream, byte[] expected, CancellationToken cancellationToken)
    {
        byte[] received = new byte[expected.Length];
        await stream.ReadExactlyAsync(received, cancellationToken);
        Assert.Equal(expected, received);
    }
}
