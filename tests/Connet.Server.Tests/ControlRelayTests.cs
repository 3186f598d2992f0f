using Connet.Core.Certificates;
using Connet.Core.Crypto;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;
using Connet.Core.Protocol.Wire.ControlRelays;
using Connet.Quic;
using Connet.Server.Control;
using Google.Protobuf;

namespace Connet.Server.Tests;

public sealed class ControlRelayTests
{
    private static readonly byte[] ClientCertificateDer = ControlTestKit.CreateSelfSigned("client.connet.test").RawData;

    [Fact]
    public async Task Relay_AuthenticatesAndGetsTheControlIdAndBoxKey()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (relay, response) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0]);
        await using var disposeRelay = relay;

        Assert.Null(response.Error);
        Assert.Equal(server.ServerId, response.ControlId);
        Assert.Equal(NaClBox.KeyLength, response.ControlAuthenticationKey.Length);
        Assert.False(response.ReconnectToken.IsEmpty);
        var status = Assert.Single(server.GetStatus().Relays);
        Assert.Equal(relay.Connection.LocalEndPoint, status.RemoteAddress);
        Assert.Equal(["relay.example:19191"], status.Hostports);
        Assert.Equal("test-relay", status.Metadata);
        Assert.Equal(server.RelayIngressEndPoints, server.GetStatus().RelayIngressEndPoints);
    }

    [Fact]
    public async Task RelayReconnectToken_KeepsTheRelayId_AndClientTokensDoNotCross()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var relayIngress = server.RelayIngressEndPoints[0];
        var (first, firstResponse) = await ControlTestRelay.ConnectAndAuthenticateAsync(relayIngress);
        var firstId = Assert.Single(server.GetStatus().Relays).Id;
        await first.DisposeAsync();

        var (second, secondResponse) = await ControlTestRelay.ConnectAndAuthenticateAsync(relayIngress, reconnectToken: firstResponse.ReconnectToken);
        await using var d2 = second;
        Assert.Null(secondResponse.Error);
        Assert.Contains(server.GetStatus().Relays, relay => relay.Id == firstId && relay.RemoteAddress.Equals(second.Connection.LocalEndPoint));

        // A client's reconnect token does not give a relay that client's ID, and a relay's does not work for a client.
        var (client, clientResponse) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0], reconnectToken: firstResponse.ReconnectToken);
        await using var d3 = client;
        var clientId = Assert.Single(server.GetStatus().Clients).Id;
        Assert.NotEqual(firstId, clientId);
        var (third, _) = await ControlTestRelay.ConnectAndAuthenticateAsync(relayIngress, reconnectToken: clientResponse.ReconnectToken);
        await using var d4 = third;
        var thirdId = Assert.Single(server.GetStatus().Relays, relay => relay.RemoteAddress.Equals(third.Connection.LocalEndPoint)).Id;
        Assert.NotEqual(clientId, thirdId);
        Assert.NotEqual(firstId, thirdId);
    }

    [Fact]
    public async Task WrongRelayToken_GetsAuthenticationFailedAndIsClosed()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());

        // The client token is not a relay token.
        var (relay, response) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0], ControlTestKit.GoodToken);
        await using var disposeRelay = relay;

        Assert.Equal(Code.AuthenticationFailed, response.Error?.Code);
        Assert.Contains("invalid token", response.Error!.Message, StringComparison.Ordinal);
        Assert.Equal((long)ConnetErrorCode.AuthenticationFailed, await relay.WaitForCloseAsync());
        Assert.Empty(server.GetStatus().Relays);
    }

    [Fact]
    public async Task RelayTokenDeniedForTheRelayAddress_IsRefused()
    {
        var token = new ControlRelayToken { Token = "denied-relay", DenyCidrs = ["127.0.0.0/8"] };
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options(token));
        var (relay, response) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0], "denied-relay");
        await using var disposeRelay = relay;

        Assert.Equal(Code.AuthenticationFailed, response.Error?.Code);
        Assert.Contains("127.0.0.1", response.Error!.Message, StringComparison.Ordinal);
        Assert.Empty(server.GetStatus().Relays);
    }

    [Fact]
    public async Task RelayIngressDenyingTheAddress_RefusesTheConnection()
    {
        var options = ControlTestRelay.Options();
        options.RelayIngresses[0].DenyCidrs = ["127.0.0.1/32"];
        await using var server = await ControlTestKit.StartAsync(options);

        await Assert.ThrowsAnyAsync<QuicException>(() =>
            ControlTestRelay.ConnectAsync(server.RelayIngressEndPoints[0], handshakeTimeout: TimeSpan.FromSeconds(2)));
        Assert.Empty(server.GetStatus().Relays);
    }

    public static TheoryData<string, string> MalformedRequests => new()
    {
        { "no-addresses", "addresses:" },
        { "too-many-addresses", "addresses:" },
        { "empty-host", "addresses[0]:" },
        { "port-zero", "addresses[0]:" },
        { "bad-certificate", "server_certificate:" },
        { "no-certificate", "server_certificate:" },
        { "short-key", "relay_authentication_key:" },
        { "low-order-key", "relay_authentication_key" },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task MalformedAuthenticateReq_IsRefusedNamingTheField(string defect, string expectedField)
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        await using var relay = await ControlTestRelay.ConnectAsync(server.RelayIngressEndPoints[0]);
        var request = relay.ValidRequest();
        switch (defect)
        {
            case "no-addresses":
                request.Addresses.Clear();
                break;
            case "too-many-addresses":
                request.Addresses.AddRange(Enumerable.Range(1, 16).Select(port => new HostPort { Host = "relay.example", Port = (uint)port }));
                break;
            case "empty-host":
                request.Addresses[0].Host = "";
                break;
            case "port-zero":
                request.Addresses[0].Port = 0;
                break;
            case "bad-certificate":
                request.ServerCertificate = ByteString.CopyFrom([0x30, 0x03, 0x02, 0x01, 0x00]);
                break;
            case "no-certificate":
                request.ServerCertificate = ByteString.Empty;
                break;
            case "short-key":
                request.RelayAuthenticationKey = ByteString.CopyFrom(new byte[31]);
                break;
            case "low-order-key":
                request.RelayAuthenticationKey = ByteString.CopyFrom(new byte[32]);
                break;
        }

        var response = await relay.AuthenticateAsync(request);

        Assert.Equal(Code.AuthenticationFailed, response.Error?.Code);
        Assert.StartsWith(expectedField, response.Error!.Message, StringComparison.Ordinal);
        Assert.Empty(server.GetStatus().Relays);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0, 0, 0, 3, 0xFF, 0xFF, 0xFF })]
    public async Task BrokenFrameFromARelay_DisconnectsThatRelayOnly(byte[] garbage)
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (good, _) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0]);
        await using var d1 = good;
        await using var bad = await ControlTestRelay.ConnectAsync(server.RelayIngressEndPoints[0]);

        await using (var badStream = await bad.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional))
        {
            await badStream.WriteAsync(garbage);
            badStream.CompleteWrites();
            Assert.Equal((long)ConnetErrorCode.AuthenticationFailed, await bad.WaitForCloseAsync());
        }

        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var d2 = client;
        await using var stream = await client.OpenRequestStreamAsync(RelayRequest("web", Role.Source, ClientCertificateDer));
        var list = await ReadRelaysUntilAsync(stream, relays => relays.Count == 1);
        Assert.Equal(Assert.Single(server.GetStatus().Relays).Id, list[0].Id);
    }

    [Fact]
    public async Task StreamOpenedByAnAuthenticatedRelay_IsAborted()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (relay, _) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0]);
        await using var d1 = relay;

        await using var stream = await relay.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync(new byte[] { 0, 0, 0, 0 });
        var aborted = await Assert.ThrowsAnyAsync<QuicException>(async () => await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(ControlTestKit.Guard));
        Assert.Equal((long)ConnetErrorCode.RequestUnknown, aborted.ApplicationErrorCode);
        Assert.Single(server.GetStatus().Relays);
    }

    [Fact]
    public async Task ClientRelayStream_GetsEveryRelayWithAnAuthenticationTheRelayOpens()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (relay, relayResponse) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0]);
        await using var d1 = relay;
        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var d2 = client;

        await using var stream = await client.OpenRequestStreamAsync(RelayRequest("web", Role.Destination, ClientCertificateDer));
        var offered = Assert.Single(await ReadRelaysUntilAsync(stream, relays => relays.Count == 1));

        Assert.Equal(Assert.Single(server.GetStatus().Relays).Id, offered.Id);
        Assert.Equal("relay.example", Assert.Single(offered.Addresses).Host);
        Assert.Equal(ControlTestRelay.RelayCertificateDer, offered.ServerCertificate.ToByteArray());
        Assert.Equal("test-relay", offered.Metadata);
        var authentication = OpenAuthentication(relay.SharedKey(relayResponse), offered);
        Assert.Equal("web", authentication.Endpoint.Name);
        Assert.Equal(Role.Destination, authentication.Role);
        Assert.Equal(CertificateKey.Compute(ClientCertificateDer), authentication.CertificateKey);

        // Another relay's key does not open it.
        var (otherPrivate, _) = NaClBox.GenerateKeyPair();
        Assert.False(NaClBox.TryOpen(NaClBox.Precompute(relayResponse.ControlAuthenticationKey.Span, otherPrivate), offered.Authentication.Span, out _));
    }

    [Fact]
    public async Task RelaysComingAndGoing_ArePushedToTheClient()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var d1 = client;
        await using var stream = await client.OpenRequestStreamAsync(RelayRequest("web", Role.Source, ClientCertificateDer));
        Assert.Empty(await ReadRelaysUntilAsync(stream, _ => true));

        var (first, _) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0], port: 1001);
        await ReadRelaysUntilAsync(stream, relays => relays.Count == 1);
        var (second, _) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0], port: 1002);
        await using var d2 = second;
        await ReadRelaysUntilAsync(stream, relays => relays.Count == 2);

        await first.DisposeAsync();
        var remaining = Assert.Single(await ReadRelaysUntilAsync(stream, relays => relays.Count == 1));
        Assert.Equal(1002u, remaining.Addresses[0].Port);
    }

    [Fact]
    public async Task RelayRequestWithANewCertificate_ResealsForIt()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (relay, relayResponse) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0]);
        await using var d1 = relay;
        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var d2 = client;
        await using var stream = await client.OpenRequestStreamAsync(RelayRequest("web", Role.Source, ClientCertificateDer));
        await ReadRelaysUntilAsync(stream, relays => relays.Count == 1);

        var renewed = ControlTestKit.CreateSelfSigned("renewed.connet.test").RawData;
        await MessageFraming.WriteAsync(stream, RelayRequest("web", Role.Source, renewed), WireVersion.Current);

        var resealed = Assert.Single(await ReadRelaysUntilAsync(stream, relays => relays.Count == 1));
        Assert.Equal(CertificateKey.Compute(renewed), OpenAuthentication(relay.SharedKey(relayResponse), resealed).CertificateKey);
    }

    [Fact]
    public async Task UpdateForAnotherEndpoint_IsRefusedAndTheListIsNotRepeated()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var d1 = client;
        await using var stream = await client.OpenRequestStreamAsync(RelayRequest("web", Role.Source, ClientCertificateDer));
        Assert.Empty(await ReadRelaysUntilAsync(stream, _ => true));

        await MessageFraming.WriteAsync(stream, RelayRequest("other", Role.Source, ClientCertificateDer), WireVersion.Current);
        var refusal = await ControlTestClient.ReadResponseAsync(stream);
        Assert.Equal(Code.RelayValidationFailed, refusal.Error?.Code);

        // The set of relays did not change, so nothing is pushed until a relay arrives: the next list has it.
        var (relay, _) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0]);
        await using var d2 = relay;
        var next = await ControlTestClient.ReadResponseAsync(stream);
        Assert.Single(next.Relays.Relays);
    }

    [Theory]
    [InlineData("other", Role.Source, Code.EndpointNotAllowed)]
    [InlineData("allowed-web", Role.Destination, Code.RoleNotAllowed)]
    public async Task RestrictedClient_GetsTheRestrictionErrorOnTheRelayStream(string endpoint, Role role, Code expected)
    {
        var options = ControlTestRelay.Options();
        options.Tokens = [new ControlClientToken { Token = "restricted", Restriction = new ControlTokenRestriction { NameMatches = "^allowed-", RoleMatches = "source" } }];
        await using var server = await ControlTestKit.StartAsync(options);
        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0], "restricted");
        await using var d1 = client;

        await using var stream = await client.OpenRequestStreamAsync(RelayRequest(endpoint, role, ClientCertificateDer));
        var response = await ControlTestClient.ReadResponseAsync(stream);

        Assert.Equal(expected, response.Error?.Code);
        Assert.Null(response.Relays);
    }

    [Fact]
    public async Task UnparsableClientCertificate_GetsRelayInvalidCertificate()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (client, _) = await ControlTestClient.ConnectAndAuthenticateAsync(server.ClientIngressEndPoints[0]);
        await using var d1 = client;

        await using var stream = await client.OpenRequestStreamAsync(RelayRequest("web", Role.Source, [1, 2, 3]));
        var response = await ControlTestClient.ReadResponseAsync(stream);

        Assert.Equal(Code.RelayInvalidCertificate, response.Error?.Code);
        Assert.Contains("client_certificate", response.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LegacyRelayAlpn_UsesTheEightBytePrefix()
    {
        await using var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        await using var relay = await ControlTestRelay.ConnectAsync(server.RelayIngressEndPoints[0], legacyOnly: true);
        Assert.Equal(ConnetAlpns.RelayToControlLegacy, relay.Connection.NegotiatedApplicationProtocol.ToString());

        var response = await relay.AuthenticateAsync(relay.ValidRequest());

        Assert.Null(response.Error);
        Assert.Single(server.GetStatus().Relays);
    }

    [Fact]
    public async Task StopAsync_ClosesConnectedRelays()
    {
        var server = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (relay, _) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0]);
        await using var d1 = relay;

        await server.StopAsync(CancellationToken.None).WaitAsync(ControlTestKit.Guard);
        await server.DisposeAsync();

        await relay.WaitForCloseAsync();
        Assert.Empty(server.GetStatus().Relays);
    }

    internal static Request RelayRequest(string endpoint, Role role, byte[] clientCertificate) => new()
    {
        Relay = new Request.Types.Relay
        {
            Endpoint = new Endpoint { Name = endpoint },
            Role = role,
            ClientCertificate = ByteString.CopyFrom(clientCertificate),
        },
    };

    internal static ClientAuthentication OpenAuthentication(byte[] sharedKey, Relay relay)
    {
        Assert.True(NaClBox.TryOpen(sharedKey, relay.Authentication.Span, out var opened));
        return ClientAuthentication.Parser.ParseFrom(opened);
    }

    /// <summary>Reads relay lists until one satisfies <paramref name="wanted"/> (bounded by count and by the guard).</summary>
    internal static async Task<IReadOnlyList<Relay>> ReadRelaysUntilAsync(QuicStream stream, Func<IReadOnlyList<Relay>, bool> wanted)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var response = await ControlTestClient.ReadResponseAsync(stream);
            Assert.Null(response.Error);
            Assert.NotNull(response.Relays);
            if (wanted(response.Relays.Relays))
            {
                return response.Relays.Relays;
            }
        }

        throw new InvalidOperationException("No relay list matched within 20 updates.");
    }
}
