using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Connet.Client.Tests.Nat;

public sealed class NatPmpClientTests
{
    private static readonly IPEndPoint Mapped = new(IPAddress.Parse("203.0.113.7"), 40123);

    [Fact]
    public async Task The_mapped_address_is_in_status_and_announced_to_control_and_deleted_on_stop()
    {
        await using var gateway = new FakeNatPmpGateway();
        await using var kit = await ConnetClientKit.StartAsync();
        var options = kit.Options(ConnetClientKit.DestinationToken);
        options.Destinations["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:9", Route = ConnetRoute.Direct };
        options.NatPmpGatewayOverride = gateway.EndPoint;
        var client = new ConnetClient(options);
        await client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        int directPort = client.GetStatus().DirectAddress!.Port;

        await ConnetClientKit.WaitForAsync(client, status => Mapped.Equals(status.NatPmp?.ExternalAddress), "the NAT-PMP mapping");
        ConnetClientStatus mapped = client.GetStatus();
        Assert.Equal(gateway.EndPoint, mapped.NatPmp!.Gateway);
        Assert.InRange(mapped.NatPmp.LifetimeLeft!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(600));
        Assert.Null(mapped.NatPmp.LastError);
        await ConnetClientKit.WaitForAsync(client, status => status.AdvertisedAddresses.Contains(Mapped), "the mapping among the advertised addresses");
        await WaitForControlDirectsAsync(kit, directs => directs.Contains(Mapped));

        // The requests came from the direct socket itself: op 0, then op 1 for the direct port, same port suggested, 600 s.
        var requests = gateway.Requests.ToArray();
        Assert.All(requests, request => Assert.Equal(directPort, request.From.Port));
        Assert.Equal(new byte[] { 0, 0 }, requests[0].Request);
        byte[] map = requests.First(request => request.Request.Length == 12).Request;
        Assert.Equal(directPort, BinaryPrimitives.ReadUInt16BigEndian(map.AsSpan(4)));
        Assert.Equal(directPort, BinaryPrimitives.ReadUInt16BigEndian(map.AsSpan(6)));
        Assert.Equal(600u, BinaryPrimitives.ReadUInt32BigEndian(map.AsSpan(8)));

        await client.DisposeAsync().AsTask().WaitAsync(TestKit.Guard);
        await WaitUntilAsync(() => gateway.Requests.Any(request => request.Request.Length == 12 && BinaryPrimitives.ReadUInt32BigEndian(request.Request.AsSpan(8)) == 0), "the deletion request");
        byte[] delete = gateway.Requests.Last().Request;
        Assert.Equal(new byte[] { 0, 1, 0, 0, (byte)(directPort >> 8), (byte)directPort, 0, 0, 0, 0, 0, 0 }, delete);
    }

    [Fact]
    public async Task Garbage_is_skipped_and_a_malformed_answer_is_reported_without_a_mapping()
    {
        await using var gateway = new FakeNatPmpGateway();
        gateway.Answer = request => request.Length == 2
            ? [
                [9],                                  // garbage: skipped
                [0, 200, 0, 0],                       // an answer to an opcode we never sent: skipped
                [0, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3],  // the answer, one byte short: unusable, reported
            ]
            : [];
        await using var kit = await ConnetClientKit.StartAsync();
        var options = kit.Options(ConnetClientKit.DestinationToken);
        options.Destinations["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:9", Route = ConnetRoute.Direct };
        options.NatPmpGatewayOverride = gateway.EndPoint;
        await using var client = new ConnetClient(options);
        await client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);

        await ConnetClientKit.WaitForAsync(client, status => status.NatPmp?.LastError is not null, "the NAT-PMP error");
        ConnetClientStatus status = client.GetStatus();
        Assert.Contains("11 bytes instead of 12", status.NatPmp!.LastError, StringComparison.Ordinal);
        Assert.Null(status.NatPmp.ExternalAddress);
        Assert.Equal(ConnetClientState.Connected, status.State);
        Assert.DoesNotContain(status.AdvertisedAddresses, address => address.Address.Equals(IPAddress.Parse("203.0.113.7")));
    }

    [Fact]
    public async Task A_refusing_gateway_is_reported_and_datagrams_from_strangers_are_ignored()
    {
        await using var gateway = new FakeNatPmpGateway();
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        gateway.Answer = request =>
        {
            // A stranger answers the asking socket first with a perfect answer; only the gateway's own refusal counts.
            stranger.SendTo(FakeNatPmpGateway.ExternalAddressAnswer(1, IPAddress.Parse("198.51.100.66")), gateway.Requests.Last().From);

            return request.Length == 2 ? [FakeNatPmpGateway.ExternalAddressAnswer(1, IPAddress.Any, result: 2)] : [];
        };
        await using var kit = await ConnetClientKit.StartAsync();
        var options = kit.Options(ConnetClientKit.DestinationToken);
        options.Destinations["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:9", Route = ConnetRoute.Direct };
        options.NatPmpGatewayOverride = gateway.EndPoint;
        await using var client = new ConnetClient(options);
        await client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);

        await ConnetClientKit.WaitForAsync(client, status => status.NatPmp?.LastError is not null, "the NAT-PMP error");
        ConnetNatPmpStatus natPmp = client.GetStatus().NatPmp!;
        Assert.Contains("not authorized", natPmp.LastError, StringComparison.Ordinal);
        Assert.Null(natPmp.ExternalAddress);
    }

    private static async Task WaitForControlDirectsAsync(ConnetClientKit kit, Func<IReadOnlyList<IPEndPoint>, bool> condition)
    {
        await WaitUntilAsync(
            () => kit.Control.GetStatus().Endpoints.SelectMany(endpoint => endpoint.Peers).Any(peer => condition(peer.Directs)),
            "control to list the mapped address among the directs");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var guard = new CancellationTokenSource(TestKit.Guard);
        for (int attempt = 0; attempt < 600; attempt++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), guard.Token);
        }

        throw new TimeoutException($"Gave up waiting for {what}");
    }
}
