using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Relay;
using Connet.Server.Control;

namespace Connet.Client.Tests;

/// <summary>A real control server on loopback and <see cref="ConnetClient"/>s configured to use it.</summary>
internal sealed class ConnetClientKit : IAsyncDisposable
{
    public const string DestinationToken = "destination-token";
    public const string SourceToken = "source-token";
    public const string ServerName = "control.connet.test";
    public const string RelayToken = "relay-token";

    private static readonly X509Certificate2 ServerCertificate = CreateSelfSigned(ServerName);

    private readonly List<ConnetClient> _clients = [];

    private readonly string? _storeDirectory;
    private readonly bool _withRelayIngress;

    private ConnetClientKit(ControlServer control, string? storeDirectory, bool withRelayIngress)
    {
        Control = control;
        _storeDirectory = storeDirectory;
        _withRelayIngress = withRelayIngress;
    }

    public ControlServer Control { get; private set; }

    public string ControlAddress => $"127.0.0.1:{Control.ClientIngressEndPoints[0].Port}";

    /// <param name="storeDirectory">Where control keeps its state; null keeps it in memory.</param>
    /// <param name="withRelayIngress">Also listen for relays on a loopback port (see <see cref="StartRelayAsync"/>).</param>
    public static async Task<ConnetClientKit> StartAsync(string? storeDirectory = null, bool withRelayIngress = false) =>
        new(await StartControlAsync(0, storeDirectory, withRelayIngress ? 0 : null), storeDirectory, withRelayIngress);

    /// <summary>A relay server authenticated to this kit's control server, its client ingress on a loopback port.</summary>
    public async Task<RelayServer> StartRelayAsync()
    {
        var relay = new RelayServer(new RelayServerOptions
        {
            Token = RelayToken,
            Ingresses = [new RelayIngress { Address = new IPEndPoint(IPAddress.Loopback, 0) }],
            ControlAddress = $"127.0.0.1:{Control.RelayIngressEndPoints[0].Port}",
            ControlServerName = ServerName,
            ControlCertificateAuthorities = [X509CertificateLoader.LoadCertificate(ServerCertificate.RawData)],
        });
        await relay.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        return relay;
    }

    /// <summary>
    /// Stops the control server and starts a new one on the same port: with the kit's store directory it comes back
    /// with its state, without one it starts fresh (new secrets, no announcements).
    /// </summary>
    public async Task RestartControlAsync()
    {
        int port = Control.ClientIngressEndPoints[0].Port;
        await Control.DisposeAsync().AsTask().WaitAsync(TestKit.Guard);
        Control = await StartControlAsync(port, _storeDirectory, _withRelayIngress ? Control.RelayIngressEndPoints[0].Port : null);
    }

    private static async Task<ControlServer> StartControlAsync(int port, string? storeDirectory, int? relayPort)
    {
        var options = new ControlServerOptions
        {
            ClientIngresses = [new ControlClientIngress { Address = new IPEndPoint(IPAddress.Loopback, port), Certificate = ServerCertificate }],
            Tokens = [new ControlClientToken { Token = DestinationToken }, new ControlClientToken { Token = SourceToken }],
            StoreDirectory = storeDirectory,
        };
        if (relayPort is { } relayIngressPort)
        {
            options.RelayIngresses = [new ControlRelayIngress { Address = new IPEndPoint(IPAddress.Loopback, relayIngressPort), Certificate = ServerCertificate }];
            options.RelayTokens = [new ControlRelayToken { Token = RelayToken }];
        }

        var control = new ControlServer(options);
        await control.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        return control;
    }

    /// <summary>Options for a client of this kit's control server on an ephemeral loopback direct port.</summary>
    public ConnetClientOptions Options(string token) => new()
    {
        Token = token,
        ServerAddress = ControlAddress,
        ServerName = ServerName,
        ServerCertificateAuthorities = [X509CertificateLoader.LoadCertificate(ServerCertificate.RawData)],
        DirectAddress = new IPEndPoint(IPAddress.Loopback, 0),
        Metadata = token,
    };

    public async Task<ConnetClient> StartDestinationAsync(string target, string endpoint = "svc")
    {
        var options = Options(DestinationToken);
        options.Destinations[endpoint] = new ConnetEndpointOptions { Url = target, Route = ConnetRoute.Direct };
        return await StartClientAsync(options);
    }

    public async Task<ConnetClient> StartSourceAsync(string endpoint = "svc")
    {
        var options = Options(SourceToken);
        options.Sources[endpoint] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0", Route = ConnetRoute.Any };
        return await StartClientAsync(options);
    }

    public async Task<ConnetClient> StartClientAsync(ConnetClientOptions options)
    {
        var client = new ConnetClient(options);
        _clients.Add(client);
        await client.StartAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        return client;
    }

    /// <summary>The TCP address the source endpoint listens on.</summary>
    public static IPEndPoint SourceAddress(ConnetClient source, string endpoint = "svc") =>
        source.GetStatus().Endpoints.Single(status => status.Name == endpoint).SourceAddress
        ?? throw new InvalidOperationException("The source endpoint reports no listening address.");

    /// <summary>Polls the status until <paramref name="condition"/> holds (bounded by count and by the guard).</summary>
    public static async Task WaitForAsync(ConnetClient client, Func<ConnetClientStatus, bool> condition, string what)
    {
        using var guard = new CancellationTokenSource(TestKit.Guard);
        for (int attempt = 0; attempt < 600; attempt++)
        {
            if (condition(client.GetStatus()))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), guard.Token);
        }

        throw new TimeoutException($"Gave up waiting for {what}; last status: {client.GetStatus()}");
    }

    /// <summary>Waits until <paramref name="client"/>'s endpoint has at least one live direct connection.</summary>
    public static Task WaitForPeerConnectionAsync(ConnetClient client, string endpoint = "svc") =>
        WaitForAsync(
            client,
            status => status.Endpoints.Single(e => e.Name == endpoint).Peers.Any(peer => peer.Connections.Count > 0),
            $"a direct connection on {endpoint}");

    public static X509Certificate2 CreateSelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.StopAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        }

        await Control.DisposeAsync();
    }
}
