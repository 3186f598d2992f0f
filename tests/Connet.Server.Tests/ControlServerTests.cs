using System.Net;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;
using Connet.Quic;
using Connet.Server.Control;

namespace Connet.Server.Tests;

public sealed class ControlServerTests
{
    [Fact]
    public async Task GoodToken_AuthenticatesAndReportsThePublicAddress()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var (client, response) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var disposeClient = client;

        Assert.Null(response.Error);
        Assert.Equal(client.Connection.LocalEndPoint, WireAddresses.ToEndPoint(response.Public));
        Assert.False(response.ReconnectToken.IsEmpty);
        var status = Assert.Single(server.GetStatus().Clients);
        Assert.Equal(client.Connection.LocalEndPoint, status.Address);
        Assert.Equal("test-client", status.Metadata);
        Assert.Equal("test", status.BuildVersion);
    }

    [Fact]
    public async Task WrongToken_GetsAuthenticationFailedAndIsClosed()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var (client, response) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0], "wrong-token");
        await using var disposeClient = client;

        Assert.NotNull(response.Error);
        Assert.Equal(Code.AuthenticationFailed, response.Error.Code);
        Assert.Contains("invalid token", response.Error.Message, StringComparison.Ordinal);
        Assert.Equal((long)ConnetErrorCode.AuthenticationFailed, await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task TokenDeniedForTheClientAddress_IsRefused()
    {
        var token = new ControlClientToken { Token = "denied", Restriction = new ControlTokenRestriction { DenyCidrs = ["127.0.0.0/8"] } };
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options(token));
        var (client, response) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0], "denied");
        await using var disposeClient = client;

        Assert.Equal(Code.AuthenticationFailed, response.Error?.Code);
        Assert.Contains("127.0.0.1", response.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngressDenyingTheClientAddress_RefusesTheConnection()
    {
        var options = ControlTestKit.Options();
        options.ClientIngresses[0].DenyCidrs = ["127.0.0.1/32"];
        await using var server = await ControlTestKit.StartAsync(options);

        await Assert.ThrowsAnyAsync<QuicException>(() =>
            ControlTestClient.ConnectAsync(server.ClientIngressEndPoints[0], handshakeTimeout: TimeSpan.FromSeconds(2)));
        Assert.Empty(server.GetStatus().Clients);
    }

    [Theory]
    [InlineData("other", Role.Destination, Code.EndpointNotAllowed)]
    [InlineData("allowed-web", Role.Destination, Code.RoleNotAllowed)]
    public async Task RestrictedToken_RefusesEndpointOrRole(string endpoint, Role role, Code expected)
    {
        var token = new ControlClientToken
        {
            Token = "restricted",
            Restriction = new ControlTokenRestriction { NameMatches = "^allowed-", RoleMatches = "source" },
        };
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options(token));
        var (client, response) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0], "restricted");
        await using var disposeClient = client;
        Assert.Null(response.Error);

        await using var stream = await client.AnnounceAsync(endpoint, role, ControlTestKit.PeerWithDirect(1000));
        var refusal = await ControlTestClient.ReadResponseAsync(stream);

        Assert.Equal(expected, refusal.Error?.Code);
        Assert.Empty(server.GetStatus().Endpoints);
    }

    [Fact]
    public async Task DestinationAndSources_SeeOnlyTheOppositeRole()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var ingress = server.ClientIngressEndPoints[0];
        var (destination, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        var (source1, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        var (source2, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        await using var d1 = destination;
        await using var d2 = source1;
        await using var d3 = source2;

        await using var destinationStream = await destination.AnnounceAsync("web", Role.Destination, ControlTestKit.PeerWithDirect(1001));
        var initial = await ControlTestClient.ReadAnnounceUntilAsync(destinationStream, _ => true);
        Assert.Empty(initial.Peers);

        await using var source1Stream = await source1.AnnounceAsync("web", Role.Source, ControlTestKit.PeerWithDirect(2001));
        var seenBySource1 = await ControlTestClient.ReadAnnounceUntilAsync(source1Stream, _ => true);
        var destinationPeer = Assert.Single(seenBySource1.Peers);
        Assert.Equal(1001u, destinationPeer.Peer.Directs[0].Port);
        Assert.Equal("test-client", destinationPeer.Metadata);

        await using var source2Stream = await source2.AnnounceAsync("web", Role.Source, ControlTestKit.PeerWithDirect(2002));
        var seenBySource2 = await ControlTestClient.ReadAnnounceUntilAsync(source2Stream, _ => true);
        Assert.Equal(destinationPeer.Id, Assert.Single(seenBySource2.Peers).Id);

        var seenByDestination = await ControlTestClient.ReadAnnounceUntilAsync(destinationStream, update => update.Peers.Count == 2);
        Assert.Equal([2001u, 2002u], seenByDestination.Peers.Select(peer => peer.Peer.Directs[0].Port).Order());
        Assert.DoesNotContain(seenByDestination.Peers, peer => peer.Id == destinationPeer.Id);

        var status = server.GetStatus();
        Assert.Equal(3, Assert.Single(status.Endpoints).Peers.Count);
    }

    [Fact]
    public async Task AnnounceUpdateOnTheSameStream_IsPushedToPeers()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var ingress = server.ClientIngressEndPoints[0];
        var (destination, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        var (source, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        await using var d1 = destination;
        await using var d2 = source;
        await using var destinationStream = await destination.AnnounceAsync("db", Role.Destination, ControlTestKit.PeerWithDirect(3001));
        await using var sourceStream = await source.AnnounceAsync("db", Role.Source, ControlTestKit.PeerWithDirect(4001));
        await ControlTestClient.ReadAnnounceUntilAsync(sourceStream, update => update.Peers.Count == 1);

        await MessageFraming.WriteAsync(destinationStream, ControlTestClient.AnnounceRequest("db", Role.Destination, ControlTestKit.PeerWithDirect(3002)), WireVersion.Current);

        await ControlTestClient.ReadAnnounceUntilAsync(sourceStream, update => update.Peers.Count == 1 && update.Peers[0].Peer.Directs[0].Port == 3002);
    }

    [Fact]
    public async Task DisconnectedPeer_IsRemovedAfterExpiryAndPeersAreTold()
    {
        var options = ControlTestKit.Options();
        options.EndpointExpiry = TimeSpan.FromMilliseconds(300);
        await using var server = await ControlTestKit.StartAsync(options);
        var ingress = server.ClientIngressEndPoints[0];
        var (destination, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        var (source, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        await using var d2 = source;
        await using (destination)
        {
            await using var destinationStream = await destination.AnnounceAsync("ssh", Role.Destination, ControlTestKit.PeerWithDirect(5001));
            await ControlTestClient.ReadAnnounceUntilAsync(destinationStream, _ => true);
        }

        await using var sourceStream = await source.AnnounceAsync("ssh", Role.Source, ControlTestKit.PeerWithDirect(6001));

        // Whether or not the source saw the destination before it expired, the last word is an empty list.
        var final = await ControlTestClient.ReadAnnounceUntilAsync(sourceStream, update => update.Peers.Count == 0);
        Assert.Empty(final.Peers);
        Assert.DoesNotContain(server.GetStatus().Endpoints.SelectMany(endpoint => endpoint.Peers), peer => peer.Role == Role.Destination);
    }

    [Fact]
    public async Task ReconnectToken_KeepsTheClientId()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var ingress = server.ClientIngressEndPoints[0];
        var (observer, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        await using var d1 = observer;
        await using var observerStream = await observer.AnnounceAsync("app", Role.Source, ControlTestKit.PeerWithDirect(7001));
        await ControlTestClient.ReadAnnounceUntilAsync(observerStream, _ => true);

        var (first, firstAuth) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        string firstId;
        await using (first)
        {
            await using var stream = await first.AnnounceAsync("app", Role.Destination, ControlTestKit.PeerWithDirect(8001));
            firstId = Assert.Single((await ControlTestClient.ReadAnnounceUntilAsync(observerStream, update => update.Peers.Count == 1)).Peers).Id;
        }

        var (second, secondAuth) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress, reconnectToken: firstAuth.ReconnectToken);
        await using var d2 = second;
        Assert.Null(secondAuth.Error);
        await using var secondStream = await second.AnnounceAsync("app", Role.Destination, ControlTestKit.PeerWithDirect(8002));

        var update = await ControlTestClient.ReadAnnounceUntilAsync(observerStream, update => update.Peers.Any(peer => peer.Peer.Directs[0].Port == 8002));
        Assert.Equal(firstId, Assert.Single(update.Peers).Id);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0, 0, 0, 3, 0xFF, 0xFF, 0xFF })]
    public async Task BrokenFrame_DisconnectsThatClientOnly(byte[] garbage)
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var ingress = server.ClientIngressEndPoints[0];
        var (good, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        var (bad, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        await using var d1 = good;
        await using var d2 = bad;

        await using var badStream = await bad.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await badStream.WriteAsync(garbage);
        Assert.Equal((long)ConnetErrorCode.RequestUnknown, await bad.WaitForCloseAsync());

        await using var goodStream = await good.AnnounceAsync("still-served", Role.Destination, ControlTestKit.PeerWithDirect(9001));
        var response = await ControlTestClient.ReadResponseAsync(goodStream);
        Assert.Null(response.Error);
        Assert.NotNull(response.Announce);
    }

    [Fact]
    public async Task RelayRequest_WithoutRelays_GetsAnEmptyListAndStaysOpen()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var d1 = client;
        await using var stream = await client.OpenRequestStreamAsync(
            ControlRelayTests.RelayRequest("web", Role.Source, ControlTestKit.ServerCertificate.RawData));

        var response = await ControlTestClient.ReadResponseAsync(stream);
        Assert.Null(response.Error);
        Assert.NotNull(response.Relays);
        Assert.Empty(response.Relays.Relays);
        Assert.False(stream.ReadsClosed.IsCompleted);
    }

    [Fact]
    public async Task UnidirectionalStream_DisconnectsThatClientOnly()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var ingress = server.ClientIngressEndPoints[0];
        var (good, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        var (bad, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        await using var d1 = good;
        await using var d2 = bad;

        await using (var oneWay = await bad.Connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional).AsTask().WaitAsync(ControlTestKit.Guard))
        {
            await oneWay.WriteAsync(new byte[] { 0, 0, 0, 0 });
            Assert.Equal((long)ConnetErrorCode.RequestUnknown, await bad.WaitForCloseAsync());
        }

        await using var goodStream = await good.AnnounceAsync("still-served", Role.Destination, ControlTestKit.PeerWithDirect(9002));
        var response = await ControlTestClient.ReadResponseAsync(goodStream);
        Assert.Null(response.Error);
        Assert.NotNull(response.Announce);
        Assert.Single(server.GetStatus().Clients);
    }

    [Fact]
    public async Task StopAsync_WithClientsConnected_ClosesThem()
    {
        var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var d1 = client;
        await using var stream = await client.AnnounceAsync("web", Role.Destination, ControlTestKit.PeerWithDirect(1));
        await ControlTestClient.ReadResponseAsync(stream);

        await server.StopAsync(CancellationToken.None).WaitAsync(ControlTestKit.Guard);
        await server.DisposeAsync();

        await client.WaitForCloseAsync();
        Assert.Empty(server.GetStatus().Clients);
    }

    [Fact]
    public async Task AbortedAnnounceStream_WithdrawsThePeerAndKeepsTheClient()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        var ingress = server.ClientIngressEndPoints[0];
        var (destination, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        var (source, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        await using var d1 = destination;
        await using var d2 = source;
        await using var sourceStream = await source.AnnounceAsync("api", Role.Source, ControlTestKit.PeerWithDirect(1101));
        await using (var destinationStream = await destination.AnnounceAsync("api", Role.Destination, ControlTestKit.PeerWithDirect(1201)))
        {
            await ControlTestClient.ReadAnnounceUntilAsync(sourceStream, update => update.Peers.Count == 1);
            destinationStream.Abort(QuicAbortDirection.Both, 0);
        }

        await ControlTestClient.ReadAnnounceUntilAsync(sourceStream, update => update.Peers.Count == 0);

        // The destination's connection still works: it can announce again and is seen again.
        await using var again = await destination.AnnounceAsync("api", Role.Destination, ControlTestKit.PeerWithDirect(1202));
        await ControlTestClient.ReadAnnounceUntilAsync(sourceStream, update => update.Peers.Count == 1 && update.Peers[0].Peer.Directs[0].Port == 1202);
    }

    [Fact]
    public async Task LegacyAlpn_UsesTheEightBytePrefix()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestKit.Options());
        await using var client = await ControlTestClient.ConnectAsync(server.ClientIngressEndPoints[0], legacyOnly: true);
        Assert.Equal(ConnetAlpns.ClientToControlLegacy, client.Connection.NegotiatedApplicationProtocol.ToString());

        var response = await client.AuthenticateAsync(ControlTestKit.GoodToken);
        Assert.Null(response.Error);
        await using var stream = await client.AnnounceAsync("legacy", Role.Destination, ControlTestKit.PeerWithDirect(1301));
        var announce = await ControlTestClient.ReadResponseAsync(stream, WireVersion.Legacy);
        Assert.NotNull(announce.Announce);
    }
}
