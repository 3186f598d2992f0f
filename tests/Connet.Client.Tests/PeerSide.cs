using System.Collections.Concurrent;
using System.Net;
using Connet.Client.Peers;
using Connet.Core.Certificates;
using Connet.Quic;

namespace Connet.Client.Tests;

/// <summary>
/// One peer as a connet client would run it: its own certificates, one QUIC endpoint on 127.0.0.1 that both
/// accepts (through a <see cref="DirectPeerServer"/>) and dials (through a <see cref="DirectPeerDialer"/>), and a
/// request server for its streams (a destination when given a target).
/// </summary>
internal sealed class PeerSide : IAsyncDisposable
{
    private PeerSide(PeerCertificates certificates, DirectPeerServer server, PeerRequestServer requests, QuicEndpoint endpoint, ListLogger logger)
    {
        Certificates = certificates;
        Server = server;
        Requests = requests;
        Endpoint = endpoint;
        Logger = logger;
        Dialer = new DirectPeerDialer(endpoint, logger);
        server.ConnectionAccepted += Accepted.Enqueue;
    }

    public PeerCertificates Certificates { get; }

    public DirectPeerServer Server { get; }

    public PeerRequestServer Requests { get; }

    public QuicEndpoint Endpoint { get; }

    public DirectPeerDialer Dialer { get; }

    public ListLogger Logger { get; }

    public ConcurrentQueue<PeerConnection> Accepted { get; } = new();

    public IPEndPoint Address => Endpoint.LocalEndPoint;

    public static PeerSide Create(Func<CancellationToken, ValueTask<Stream>>? target = null)
    {
        var logger = new ListLogger();
        var certificates = PeerCertificates.Create();
        var server = new DirectPeerServer(logger);
        var requests = new PeerRequestServer(target, logger);
        server.AddLocal(certificates, requests);
        var options = new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        server.ConfigureEndpoint(options);
        var endpoint = QuicEndpoint.Bind(options);
        server.Start(endpoint);
        return new PeerSide(certificates, server, requests, endpoint, logger);
    }

    /// <summary>What control's announcements would do: each side expects the other's client certificate.</summary>
    public static void Introduce(PeerSide a, PeerSide b)
    {
        a.Server.ExpectClient(a.Certificates, b.Certificates.Client);
        b.Server.ExpectClient(b.Certificates, a.Certificates.Client);
    }

    /// <summary>Dials <paramref name="remote"/> and serves the streams it opens on the new connection, as a destination must on both directions.</summary>
    public async ValueTask<PeerConnection> DialAsync(PeerSide remote, CancellationToken cancellationToken)
    {
        PeerConnection connection = await Dialer.DialAsync(Certificates, remote.Certificates.Server, [remote.Address], cancellationToken);
        Requests.Serve(connection);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Requests.DisposeAsync();
        await Endpoint.DisposeAsync();
        Certificates.Dispose();
    }
}
