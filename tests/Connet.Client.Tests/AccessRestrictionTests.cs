using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Protocol;
using Connet.Server.Control;

namespace Connet.Client.Tests;

/// <summary>
/// The control server's access rules seen from a real <see cref="ConnetClient"/>: refusals arrive with the right
/// error, and a refused endpoint does not take the client's other endpoints down with it.
/// </summary>
public sealed class AccessRestrictionTests : IAsyncLifetime
{
    private const string OpenToken = "open-token";
    private const string NamedToken = "named-token";
    private const string SourcesOnlyToken = "sources-only-token";
    private const string DeniedAddressToken = "denied-address-token";

    private static readonly X509Certificate2 ServerCertificate = ConnetClientKit.CreateSelfSigned(ConnetClientKit.ServerName);

    private readonly List<ConnetClient> _clients = [];
    private ControlServer _control = null!;

    public async Task InitializeAsync() => _control = await StartControlAsync(denyIngressCidrs: []);

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.StopAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        }

        await _control.DisposeAsync();
    }

    [Fact]
    public async Task TokenDeniedForTheClientsAddress_StartFailsWithAuthenticationFailed()
    {
        var options = Options(_control, DeniedAddressToken);
        options.Destinations["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:1" };
        var client = Track(new ConnetClient(options));

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(() => client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard));

        Assert.Equal(ConnetErrorCode.AuthenticationFailed, refused.Code);
        Assert.Contains("127.0.0.1", refused.Message, StringComparison.Ordinal);
        Assert.Equal(ConnetClientState.AuthenticationFailed, client.GetStatus().State);
    }

    [Fact]
    public async Task IngressDenyingTheClientsAddress_RefusesBeforeTheHandshakeAndTheClientKeepsRetrying()
    {
        await using var denying = await StartControlAsync(denyIngressCidrs: ["127.0.0.0/8"]);
        var options = Options(denying, OpenToken);
        options.Destinations["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:1" };
        var client = Track(new ConnetClient(options));

        await client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);

        await ConnetClientKit.WaitForAsync(client, status => status.State == ConnetClientState.Reconnecting && status.LastError is not null, "the refused connection to be reported");
        Assert.Contains("refused", client.GetStatus().LastError, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(denying.GetStatus().Clients);
    }

    [Fact]
    public async Task NameRestrictedToken_RefusesOnlyTheEndpointItMayNotUse()
    {
        await using var echo = new TcpEchoServer();
        var destinationOptions = Options(_control, NamedToken);
        destinationOptions.Destinations["allowed-svc"] = new ConnetEndpointOptions { Url = echo.Url, Route = ConnetRoute.Direct };
        destinationOptions.Destinations["secret-svc"] = new ConnetEndpointOptions { Url = echo.Url, Route = ConnetRoute.Direct };
        var destination = await StartAsync(destinationOptions);
        var sourceOptions = Options(_control, OpenToken);
        sourceOptions.Sources["allowed-svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0", Route = ConnetRoute.Direct };
        var source = await StartAsync(sourceOptions);

        await ConnetClientKit.WaitForAsync(destination, status => Endpoint(status, "secret-svc").Refusal is not null, "the refusal of secret-svc");
        Assert.Contains(nameof(ConnetErrorCode.EndpointNotAllowed), Endpoint(destination.GetStatus(), "secret-svc").Refusal, StringComparison.Ordinal);
        Assert.Null(Endpoint(destination.GetStatus(), "allowed-svc").Refusal);

        // The refusal did not end the control session: the allowed endpoint still tunnels.
        await ConnetClientKit.WaitForPeerConnectionAsync(source, "allowed-svc");
        byte[] payload = TestKit.SeededPayload(21, 64 * 1024);
        using var guard = new CancellationTokenSource(TestKit.Guard);
        byte[] echoed = await TestKit.TcpRoundTripAsync(ConnetClientKit.SourceAddress(source, "allowed-svc"), payload, guard.Token);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ");
        Assert.Equal(ConnetClientState.Connected, destination.GetStatus().State);
        Assert.DoesNotContain(_control.GetStatus().Endpoints, endpoint => endpoint.Name == "secret-svc");
    }

    [Fact]
    public async Task RoleRestrictedToken_RefusesADestination()
    {
        var options = Options(_control, SourcesOnlyToken);
        options.Destinations["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:1" };
        options.Sources["other"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0" };
        var client = await StartAsync(options);

        await ConnetClientKit.WaitForAsync(client, status => Endpoint(status, "svc").Refusal is not null, "the refusal of the destination");

        Assert.Contains(nameof(ConnetErrorCode.RoleNotAllowed), Endpoint(client.GetStatus(), "svc").Refusal, StringComparison.Ordinal);
        Assert.Null(Endpoint(client.GetStatus(), "other").Refusal);
        Assert.Contains(_control.GetStatus().Endpoints, endpoint => endpoint.Name == "other");
    }

    private static ConnetEndpointStatus Endpoint(ConnetClientStatus status, string name) => status.Endpoints.Single(endpoint => endpoint.Name == name);

    private static async Task<ControlServer> StartControlAsync(List<string> denyIngressCidrs)
    {
        var control = new ControlServer(new ControlServerOptions
        {
            ClientIngresses = [new ControlClientIngress { Address = new IPEndPoint(IPAddress.Loopback, 0), Certificate = ServerCertificate, DenyCidrs = denyIngressCidrs }],
            Tokens =
            [
                new ControlClientToken { Token = OpenToken },
                new ControlClientToken { Token = NamedToken, Restriction = new ControlTokenRestriction { NameMatches = "^allowed-" } },
                new ControlClientToken { Token = SourcesOnlyToken, Restriction = new ControlTokenRestriction { RoleMatches = "source" } },
                new ControlClientToken { Token = DeniedAddressToken, Restriction = new ControlTokenRestriction { DenyCidrs = ["127.0.0.0/8"] } },
            ],
        });
        await control.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        return control;
    }

    private static ConnetClientOptions Options(ControlServer control, string token) => new()
    {
        Token = token,
        ServerAddress = $"127.0.0.1:{control.ClientIngressEndPoints[0].Port}",
        ServerName = ConnetClientKit.ServerName,
        ServerCertificateAuthorities = [X509CertificateLoader.LoadCertificate(ServerCertificate.RawData)],
        DirectAddress = new IPEndPoint(IPAddress.Loopback, 0),
    };

    private ConnetClient Track(ConnetClient client)
    {
        _clients.Add(client);
        return client;
    }

    private async Task<ConnetClient> StartAsync(ConnetClientOptions options)
    {
        var client = Track(new ConnetClient(options));
        await client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        return client;
    }
}
