using System.Net;
using System.Net.Sockets;

namespace Connet.Client.Tests.Destinations;

/// <summary>tls://host:port destinations end to end: tcp:// source → direct peer connection → TLS to a real echo server.</summary>
public sealed class TlsDestinationTests
{
    private static readonly X509Certificate2Holder Server = new(DestinationKit.CreateServerCertificate());

    [Fact]
    public async Task Target_TrustedThroughCertificateAuthorities_EchoesAndPassesTheHalfClose()
    {
        await using var target = new TlsEchoServer(Server.Certificate);
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions
        {
            Url = target.Url,
            CertificateAuthorities = [DestinationKit.PublicOnly(Server.Certificate)],
        });
        byte[] payload = TestKit.SeededPayload(3, 256 * 1024);
        using var guard = new CancellationTokenSource(TestKit.Guard);

        // The round trip half-closes before reading: the echo ends only if that FIN reached the target as close_notify.
        byte[] echoed = await TestKit.TcpRoundTripAsync(source, payload, guard.Token);

        Assert.True(payload.AsSpan().SequenceEqual(echoed), $"got {echoed.Length} bytes back instead of the {payload.Length} sent");
        Assert.Equal(payload.Length, target.Received);
        Assert.Equal(1, target.Handshakes);
    }

    [Fact]
    public async Task Target_NotTrusted_ClosesTheSourceConnectionAndNothingReachesIt()
    {
        await using var target = new TlsEchoServer(Server.Certificate);
        await using var kit = await ConnetClientKit.StartAsync();

        // No authorities: the system trust store, which does not know the self-signed certificate.
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = target.Url });
        using var guard = new CancellationTokenSource(TestKit.Guard);

        byte[] answer = await RoundTripOrEmptyAsync(source, TestKit.SeededPayload(4, 1000), guard.Token);

        // Handshakes may count here: OpenSSL finishes the handshake before SslStream rejects the certificate and closes.
        Assert.Empty(answer);
        Assert.Equal(0, target.Received);
    }

    [Fact]
    public async Task Target_WithAnUntrustedAuthority_IsRefused()
    {
        await using var target = new TlsEchoServer(Server.Certificate);
        await using var kit = await ConnetClientKit.StartAsync();
        using var other = DestinationKit.CreateServerCertificate();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions
        {
            Url = target.Url,
            CertificateAuthorities = [DestinationKit.PublicOnly(other)],
        });
        using var guard = new CancellationTokenSource(TestKit.Guard);

        byte[] answer = await RoundTripOrEmptyAsync(source, TestKit.SeededPayload(5, 1000), guard.Token);

        Assert.Empty(answer);
        Assert.Equal(0, target.Received);
    }

    [Fact]
    public async Task Target_WithInsecureSkipVerify_IsAccepted()
    {
        await using var target = new TlsEchoServer(Server.Certificate);
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = target.Url, InsecureSkipVerify = true });
        byte[] payload = TestKit.SeededPayload(6, 4096);
        using var guard = new CancellationTokenSource(TestKit.Guard);

        byte[] echoed = await TestKit.TcpRoundTripAsync(source, payload, guard.Token);

        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ from the sent ones");
    }

    [Fact]
    public async Task Target_RequiringAClientCertificate_SeesOurs()
    {
        await using var target = new TlsEchoServer(Server.Certificate, requireClientCertificate: true);
        await using var kit = await ConnetClientKit.StartAsync();
        using var clientCertificate = DestinationKit.CreateClientCertificate("destination-client");
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions
        {
            Url = target.Url,
            CertificateAuthorities = [DestinationKit.PublicOnly(Server.Certificate)],
            Certificate = clientCertificate,
        });
        byte[] payload = TestKit.SeededPayload(7, 4096);
        using var guard = new CancellationTokenSource(TestKit.Guard);

        byte[] echoed = await TestKit.TcpRoundTripAsync(source, payload, guard.Token);

        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ from the sent ones");
        Assert.Equal(clientCertificate.GetCertHashString(), Assert.Single(target.ClientCertificateThumbprints));
    }

    [Fact]
    public async Task Target_RequiringAClientCertificate_RefusesUsWithoutOne()
    {
        await using var target = new TlsEchoServer(Server.Certificate, requireClientCertificate: true);
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions
        {
            Url = target.Url,
            CertificateAuthorities = [DestinationKit.PublicOnly(Server.Certificate)],
        });
        using var guard = new CancellationTokenSource(TestKit.Guard);

        byte[] answer = await RoundTripOrEmptyAsync(source, TestKit.SeededPayload(8, 1000), guard.Token);

        Assert.Empty(answer);
        Assert.Equal(0, target.Received);
    }

    /// <summary>A round trip whose connection the source may end with a reset rather than a FIN: either way, nothing came back.</summary>
    private static async Task<byte[]> RoundTripOrEmptyAsync(IPEndPoint source, byte[] payload, CancellationToken cancellationToken)
    {
        try
        {
            return await TestKit.TcpRoundTripAsync(source, payload, cancellationToken);
        }
        catch (Exception exception) when (exception is SocketException or IOException)
        {
            return [];
        }
    }

    /// <summary>One server certificate for the class, disposed with the process.</summary>
    private sealed record X509Certificate2Holder(System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate);
}
