using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Client;
using Connet.Relay;
using Connet.Server.Control;

namespace Connet.Bench;

/// <summary>Which way the tunnelled bytes go: straight between the peers, or through a relay with an encryption.</summary>
internal sealed record TunnelPath(string Name, ConnetRoute Route, ConnetRelayEncryption Encryption)
{
    public static readonly IReadOnlyList<TunnelPath> All =
    [
        new("direct", ConnetRoute.Direct, ConnetRelayEncryption.None),
        new("relay", ConnetRoute.Relay, ConnetRelayEncryption.None),
        new("relay-tls", ConnetRoute.Relay, ConnetRelayEncryption.Tls),
        new("relay-dhxcp", ConnetRoute.Relay, ConnetRelayEncryption.Dhxcp),
    ];
}

/// <summary>
/// A control server, a destination client (endpoints "sink" and "echo" pointing at local TCP servers) and a source
/// client for both endpoints, all on 127.0.0.1 ephemeral ports, using one <see cref="TunnelPath"/>; for relay paths
/// also a relay server.
/// </summary>
internal sealed class TunnelKit : IAsyncDisposable
{
    private const string DestinationToken = "bench-destination";
    private const string SourceToken = "bench-source";
    private const string RelayToken = "bench-relay";
    private const string ServerName = "control.connet.bench";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly List<ConnetClient> _clients = [];
    private readonly TunnelPath _path;
    private ControlServer? _control;
    private RelayServer? _relay;

    private TunnelKit(TunnelPath path) => _path = path;

    public string PathName => _path.Name;

    public TcpSinkServer Sink { get; } = new();

    public TcpEchoServer Echo { get; } = new();

    public IPEndPoint SinkThroughTunnel { get; private set; } = null!;

    public IPEndPoint EchoThroughTunnel { get; private set; } = null!;

    public static async Task<TunnelKit> StartAsync(TunnelPath path, CancellationToken cancellationToken)
    {
        var kit = new TunnelKit(path);
        try
        {
            await kit.StartCoreAsync(cancellationToken);
            return kit;
        }
        catch
        {
            await kit.DisposeAsync();
            throw;
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        using X509Certificate2 certificate = CreateSelfSigned(ServerName);
        bool relayed = _path.Route == ConnetRoute.Relay;
        var controlOptions = new ControlServerOptions
        {
            ClientIngresses = [new ControlClientIngress { Address = new IPEndPoint(IPAddress.Loopback, 0), Certificate = certificate }],
            Tokens = [new ControlClientToken { Token = DestinationToken }, new ControlClientToken { Token = SourceToken }],
        };
        if (relayed)
        {
            controlOptions.RelayIngresses = [new ControlRelayIngress { Address = new IPEndPoint(IPAddress.Loopback, 0), Certificate = certificate }];
            controlOptions.RelayTokens = [new ControlRelayToken { Token = RelayToken }];
        }

        _control = new ControlServer(controlOptions);
        await _control.StartAsync(cancellationToken).WaitAsync(StepTimeout, cancellationToken);
        string controlAddress = $"127.0.0.1:{_control.ClientIngressEndPoints[0].Port}";
        if (relayed)
        {
            _relay = new RelayServer(new RelayServerOptions
            {
                Token = RelayToken,
                Ingresses = [new RelayIngress { Address = new IPEndPoint(IPAddress.Loopback, 0) }],
                ControlAddress = $"127.0.0.1:{_control.RelayIngressEndPoints[0].Port}",
                ControlServerName = ServerName,
                ControlCertificateAuthorities = [X509CertificateLoader.LoadCertificate(certificate.RawData)],
            });
            await _relay.StartAsync(cancellationToken).WaitAsync(StepTimeout, cancellationToken);
        }

        var destination = Options(DestinationToken, controlAddress, certificate);
        destination.Destinations["sink"] = Endpoint($"tcp://127.0.0.1:{Sink.EndPoint.Port}");
        destination.Destinations["echo"] = Endpoint($"tcp://127.0.0.1:{Echo.EndPoint.Port}");
        await StartClientAsync(destination, cancellationToken);

        var source = Options(SourceToken, controlAddress, certificate);
        source.Sources["sink"] = Endpoint("tcp://127.0.0.1:0");
        source.Sources["echo"] = Endpoint("tcp://127.0.0.1:0");
        ConnetClient sourceClient = await StartClientAsync(source, cancellationToken);

        SinkThroughTunnel = await WaitForPathAsync(sourceClient, "sink", cancellationToken);
        EchoThroughTunnel = await WaitForPathAsync(sourceClient, "echo", cancellationToken);
    }

    private ConnetEndpointOptions Endpoint(string url) => new()
    {
        Url = url,
        Route = _path.Route,
        RelayEncryptions = [_path.Encryption],
    };

    private static ConnetClientOptions Options(string token, string controlAddress, X509Certificate2 certificate) => new()
    {
        Token = token,
        ServerAddress = controlAddress,
        ServerName = ServerName,
        ServerCertificateAuthorities = [X509CertificateLoader.LoadCertificate(certificate.RawData)],
        DirectAddress = new IPEndPoint(IPAddress.Loopback, 0),
    };

    private async Task<ConnetClient> StartClientAsync(ConnetClientOptions options, CancellationToken cancellationToken)
    {
        var client = new ConnetClient(options);
        _clients.Add(client);
        await client.StartAsync(cancellationToken).WaitAsync(StepTimeout, cancellationToken);
        return client;
    }

    /// <summary>Waits (bounded) until the source endpoint has a live connection of the kit's path; returns its TCP listen address.</summary>
    private async Task<IPEndPoint> WaitForPathAsync(ConnetClient source, string endpoint, CancellationToken cancellationToken)
    {
        bool relayed = _path.Route == ConnetRoute.Relay;
        for (int attempt = 0; attempt < 600; attempt++)
        {
            var status = source.GetStatus().Endpoints.Single(candidate => candidate.Name == endpoint);
            bool ready = status.Peers.Any(peer => peer.Connections.Any(connection => (connection.Direction == ConnetPeerConnectionDirection.Relay) == relayed));
            if (status.SourceAddress is not null && ready)
            {
                return status.SourceAddress;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        throw new TimeoutException($"No {_path.Name} connection on {endpoint}; last status: {source.GetStatus()}");
    }

    private static X509Certificate2 CreateSelfSigned(string name)
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
        // Stop the source first so no new tunnelled connections reach the destination while it shuts down.
        for (int index = _clients.Count - 1; index >= 0; index--)
        {
            await _clients[index].StopAsync(CancellationToken.None).WaitAsync(StepTimeout);
        }

        if (_relay is not null)
        {
            await _relay.DisposeAsync().AsTask().WaitAsync(StepTimeout);
        }

        if (_control is not null)
        {
            await _control.DisposeAsync().AsTask().WaitAsync(StepTimeout);
        }

        await Sink.DisposeAsync();
        await Echo.DisposeAsync();
    }
}
