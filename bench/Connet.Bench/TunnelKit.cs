using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Client;
using Connet.Server.Control;

namespace Connet.Bench;

/// <summary>
/// A control server, a destination client (endpoints "sink" and "echo" pointing at local TCP servers) and a source
/// client for both endpoints, all on 127.0.0.1 ephemeral ports, direct route only.
/// </summary>
internal sealed class TunnelKit : IAsyncDisposable
{
    private const string DestinationToken = "bench-destination";
    private const string SourceToken = "bench-source";
    private const string ServerName = "control.connet.bench";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly List<ConnetClient> _clients = [];
    private ControlServer? _control;

    private TunnelKit()
    {
    }

    public TcpSinkServer Sink { get; } = new();

    public TcpEchoServer Echo { get; } = new();

    public IPEndPoint SinkThroughTunnel { get; private set; } = null!;

    public IPEndPoint EchoThroughTunnel { get; private set; } = null!;

    public static async Task<TunnelKit> StartAsync(CancellationToken cancellationToken)
    {
        var kit = new TunnelKit();
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
        _control = new ControlServer(new ControlServerOptions
        {
            ClientIngresses = [new ControlClientIngress { Address = new IPEndPoint(IPAddress.Loopback, 0), Certificate = certificate }],
            Tokens = [new ControlClientToken { Token = DestinationToken }, new ControlClientToken { Token = SourceToken }],
        });
        await _control.StartAsync(cancellationToken).WaitAsync(StepTimeout, cancellationToken);
        string controlAddress = $"127.0.0.1:{_control.ClientIngressEndPoints[0].Port}";

        var destination = Options(DestinationToken, controlAddress, certificate);
        destination.Destinations["sink"] = new ConnetEndpointOptions { Url = $"tcp://127.0.0.1:{Sink.EndPoint.Port}", Route = ConnetRoute.Direct };
        destination.Destinations["echo"] = new ConnetEndpointOptions { Url = $"tcp://127.0.0.1:{Echo.EndPoint.Port}", Route = ConnetRoute.Direct };
        await StartClientAsync(destination, cancellationToken);

        var source = Options(SourceToken, controlAddress, certificate);
        source.Sources["sink"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0", Route = ConnetRoute.Direct };
        source.Sources["echo"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0", Route = ConnetRoute.Direct };
        ConnetClient sourceClient = await StartClientAsync(source, cancellationToken);

        SinkThroughTunnel = await WaitForDirectPeerAsync(sourceClient, "sink", cancellationToken);
        EchoThroughTunnel = await WaitForDirectPeerAsync(sourceClient, "echo", cancellationToken);
    }

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

    /// <summary>Waits (bounded) until the source endpoint has a live direct connection; returns its TCP listen address.</summary>
    private static async Task<IPEndPoint> WaitForDirectPeerAsync(ConnetClient source, string endpoint, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 600; attempt++)
        {
            var status = source.GetStatus().Endpoints.Single(candidate => candidate.Name == endpoint);
            if (status.SourceAddress is not null && status.Peers.Any(peer => peer.Connections.Count > 0))
            {
                return status.SourceAddress;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        throw new TimeoutException($"No direct peer connection on {endpoint}; last status: {source.GetStatus()}");
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

        if (_control is not null)
        {
            await _control.DisposeAsync().AsTask().WaitAsync(StepTimeout);
        }

        await Sink.DisposeAsync();
        await Echo.DisposeAsync();
    }
}
