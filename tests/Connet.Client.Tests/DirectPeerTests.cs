using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Client.Peers;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Quic;
using Microsoft.Extensions.Logging;

namespace Connet.Client.Tests;

public sealed class DirectPeerTests
{
    [Fact]
    public async Task Dial_with_the_right_pins_passes_the_check_and_the_remote_side_sees_who_dialed()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var a = PeerSide.Create();
        await using var b = PeerSide.Create();
        PeerSide.Introduce(a, b);

        await using PeerConnection outgoing = await a.DialAsync(b, timeout.Token);

        Assert.Equal(PeerConnectionDirection.Outgoing, outgoing.Direction);
        Assert.Equal(b.Certificates.ServerKey, outgoing.RemoteCertificateKey);
        Assert.Equal(WireVersion.Current, outgoing.WireVersion);
        Assert.Equal(b.Address, outgoing.RemoteEndPoint);
        PeerConnection incoming = await WaitForAcceptedAsync(b, timeout.Token);
        Assert.Equal(PeerConnectionDirection.Incoming, incoming.Direction);
        Assert.Equal(a.Certificates.ClientKey, incoming.RemoteCertificateKey);
        Assert.True(outgoing.SmoothedRtt > TimeSpan.Zero);
    }

    [Fact]
    public async Task Dialer_pinning_another_server_certificate_fails_clearly_and_nothing_is_accepted()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var a = PeerSide.Create();
        await using var b = PeerSide.Create();
        PeerSide.Introduce(a, b);
        // Same DNS name as b's server certificate, so SNI routes to b, but a different certificate: b's is not the pin.
        using X509Certificate2 impostor = SelfSignedServer(b.Certificates.ServerName);

        var failure = await Assert.ThrowsAsync<ConnetProtocolException>(
            async () => await a.Dialer.DialAsync(a.Certificates, impostor, [b.Address], timeout.Token));

        Assert.Equal(ConnetErrorCode.ConnectionCheckFailed, failure.Code);
        Assert.Contains("not the pinned", failure.Message, StringComparison.Ordinal);
        Assert.Contains(b.Address.ToString(), failure.Message, StringComparison.Ordinal);
        Assert.Empty(b.Accepted);
    }

    [Fact]
    public async Task Server_expecting_another_client_certificate_refuses_the_dialer_and_logs_why()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var a = PeerSide.Create();
        await using var b = PeerSide.Create();
        using var stranger = PeerCertificates.Create();
        a.Server.ExpectClient(a.Certificates, b.Certificates.Client);
        b.Server.ExpectClient(b.Certificates, stranger.Client);

        var failure = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await a.DialAsync(b, timeout.Token));

        Assert.Equal(ConnetErrorCode.ConnectionCheckFailed, failure.Code);
        Assert.Contains("client certificate", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(b.Logger.Entries, entry => entry.Level == LogLevel.Warning && entry.Message.Contains(a.Certificates.ClientKey, StringComparison.Ordinal));
        Assert.Empty(b.Accepted);
    }

    [Fact]
    public async Task Dialer_tries_each_address_in_turn_until_one_answers()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var a = PeerSide.Create();
        await using var b = PeerSide.Create();
        await using var unrelated = PeerSide.Create();
        PeerSide.Introduce(a, b);

        // The first address is another peer, which does not serve b's name and refuses the handshake.
        await using PeerConnection connection = await a.Dialer.DialAsync(a.Certificates, b.Certificates.Server, [unrelated.Address, b.Address], timeout.Token);

        Assert.Equal(b.Address, connection.RemoteEndPoint);
    }

    [Fact]
    public async Task Simultaneous_open_gives_two_working_connections_one_each_way()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var echo = new TcpEchoServer();
        await using var a = PeerSide.Create(Tunnels.TcpDestination.Dialer(echo.Url));
        await using var b = PeerSide.Create(Tunnels.TcpDestination.Dialer(echo.Url));
        PeerSide.Introduce(a, b);

        // Both dial at the same moment from the sockets they accept on, as hole punching does.
        var aToB = a.DialAsync(b, timeout.Token).AsTask();
        var bToA = b.DialAsync(a, timeout.Token).AsTask();
        await Task.WhenAll(aToB, bToA);
        await using PeerConnection fromA = await aToB;
        await using PeerConnection fromB = await bToA;

        Assert.Equal(b.Certificates.ServerKey, fromA.RemoteCertificateKey);
        Assert.Equal(a.Certificates.ServerKey, fromB.RemoteCertificateKey);
        PeerConnection acceptedByA = await WaitForAcceptedAsync(a, timeout.Token);
        PeerConnection acceptedByB = await WaitForAcceptedAsync(b, timeout.Token);
        foreach (var (connection, seed) in new[] { (fromA, 1), (fromB, 2) })
        {
            byte[] payload = TestKit.SeededPayload(seed, 4096);
            await using var tunnel = (QuicStream)await PeerTunnel.OpenAsync(connection, timeout.Token);
            await tunnel.WriteAsync(payload, completeWrites: true, timeout.Token);
            Assert.Equal(payload, await TestKit.ReadToEndAsync(tunnel, timeout.Token));
        }

        // The accepted side of each connection can tunnel too: both sides of a direct connection are usable.
        foreach (var (connection, seed) in new[] { (acceptedByA, 3), (acceptedByB, 4) })
        {
            byte[] payload = TestKit.SeededPayload(seed, 4096);
            await using var tunnel = (QuicStream)await PeerTunnel.OpenAsync(connection, timeout.Token);
            await tunnel.WriteAsync(payload, completeWrites: true, timeout.Token);
            Assert.Equal(payload, await TestKit.ReadToEndAsync(tunnel, timeout.Token));
        }
    }

    [Fact]
    public async Task Legacy_alpn_client_gets_the_check_answered_with_eight_byte_framing()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var a = PeerSide.Create();
        await using var b = PeerSide.Create();
        PeerSide.Introduce(a, b);
        // A Go connet <= 0.15.3 peer offers only connet-peer/0.1.
        var options = new QuicClientConnectionOptions
        {
            RemoteEndPoint = b.Address,
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
            ClientAuthenticationOptions = new SslClientAuthenticationOptions
            {
                TargetHost = b.Certificates.ServerName,
                ApplicationProtocols = [new SslApplicationProtocol(ConnetAlpns.PeerToPeerLegacy)],
                ClientCertificates = [a.Certificates.Client],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 presented && PeerCertificates.VerifyPinned(presented, b.Certificates.Server, PeerCertificates.ServerAuthentication, out _),
            },
        };
        await using QuicConnection connection = await a.Endpoint.ConnectAsync(options, timeout.Token);

        await PeerTunnel.CheckAsync(connection, WireVersion.Legacy, timeout.Token);

        PeerConnection incoming = await WaitForAcceptedAsync(b, timeout.Token);
        Assert.Equal(WireVersion.Legacy, incoming.WireVersion);
    }

    [Fact]
    public async Task Dialing_a_name_no_local_endpoint_serves_is_refused()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var a = PeerSide.Create();
        await using var b = PeerSide.Create();
        using var unknown = PeerCertificates.Create();
        PeerSide.Introduce(a, b);

        var failure = await Assert.ThrowsAsync<ConnetProtocolException>(
            async () => await a.Dialer.DialAsync(a.Certificates, unknown.Server, [b.Address], timeout.Token));

        Assert.Equal(ConnetErrorCode.ConnectionCheckFailed, failure.Code);
        Assert.Empty(b.Accepted);
    }

    [Fact]
    public async Task Connect_to_a_peer_that_is_not_a_destination_gets_destination_not_found()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var a = PeerSide.Create();
        await using var b = PeerSide.Create(target: null);
        PeerSide.Introduce(a, b);
        await using PeerConnection connection = await a.DialAsync(b, timeout.Token);

        var failure = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await PeerTunnel.OpenAsync(connection, timeout.Token));

        Assert.Equal(ConnetErrorCode.DestinationNotFound, failure.Code);
    }

    internal static async Task<PeerConnection> WaitForAcceptedAsync(PeerSide side, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            if (side.Accepted.TryDequeue(out var connection))
            {
                return connection;
            }

            await Task.Delay(10, cancellationToken);
        }

        throw new TimeoutException("no incoming peer connection was accepted");
    }

    private static X509Certificate2 SelfSignedServer(string dnsName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([PeerCertificates.ServerAuthentication], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
