using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Client.Tests.Sources;

/// <summary>tls:// sources end to end: TLS caller → source → direct tunnel → destination → TCP echo.</summary>
public sealed class TlsSourceTests
{
    private static readonly X509Certificate2 ServerCertificate = ConnetClientKit.CreateSelfSigned("source.connet.test");
    private static readonly X509Certificate2 TrustedClient = ConnetClientKit.CreateSelfSigned("trusted.client.test");
    private static readonly X509Certificate2 OtherClient = ConnetClientKit.CreateSelfSigned("other.client.test");

    [Fact]
    public async Task Tls_source_without_client_authorities_echoes_through_the_tunnel()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, echo.Url);
        var source = await SourceKit.StartSourceAsync(kit, "tls://127.0.0.1:0", options => options.Certificate = ServerCertificate);
        await SourceKit.WaitForDestinationsAsync(source, 1);
        using var guard = new CancellationTokenSource(TestKit.Guard);

        byte[] payload = TestKit.SeededPayload(3, 256 * 1024);
        byte[] echoed = await TlsRoundTripAsync(ConnetClientKit.SourceAddress(source), null, payload, guard.Token);

        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ from the sent ones");
        Assert.Equal(1, echo.Accepted);
    }

    [Fact]
    public async Task Mutual_tls_source_accepts_a_trusted_client_and_refuses_others_before_any_tunnel()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, echo.Url);
        var source = await SourceKit.StartSourceAsync(kit, "tls://127.0.0.1:0", options =>
        {
            options.Certificate = ServerCertificate;
            options.CertificateAuthorities = [X509CertificateLoader.LoadCertificate(TrustedClient.RawData)];
        });
        await SourceKit.WaitForDestinationsAsync(source, 1);
        IPEndPoint address = ConnetClientKit.SourceAddress(source);
        using var guard = new CancellationTokenSource(TestKit.Guard);

        Assert.False(await IsServedAsync(address, null, guard.Token), "a client without a certificate was served");
        Assert.False(await IsServedAsync(address, OtherClient, guard.Token), "a client with an untrusted certificate was served");
        Assert.Equal(0, echo.Accepted); // Refused at the handshake: no tunnel was opened for them.

        byte[] payload = TestKit.SeededPayload(4, 4096);
        byte[] echoed = await TlsRoundTripAsync(address, TrustedClient, payload, guard.Token);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the trusted client's bytes did not echo");
        Assert.Equal(1, echo.Accepted);
    }

    private static async Task<bool> IsServedAsync(IPEndPoint address, X509Certificate2? clientCertificate, CancellationToken cancellationToken)
    {
        try
        {
            byte[] echoed = await TlsRoundTripAsync(address, clientCertificate, [1, 2, 3], cancellationToken);
            return echoed.Length > 0;
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException or SocketException)
        {
            // TLS 1.3 reports a refused client certificate after the client's handshake, on its first read.
            return false;
        }
    }

    private static async Task<byte[]> TlsRoundTripAsync(IPEndPoint address, X509Certificate2? clientCertificate, byte[] payload, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(address, cancellationToken);
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = "source.connet.test",
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(ServerCertificate.RawData),
            },
            cancellationToken);
        Task<byte[]> reading = TestKit.ReadToEndAsync(tls, cancellationToken);
        await tls.WriteAsync(payload, cancellationToken);
        await tls.FlushAsync(cancellationToken);

        // The echo target answers after our end: TLS close_notify is not a half-close, so end the TCP direction.
        await tls.ShutdownAsync();
        socket.Shutdown(SocketShutdown.Send);
        return await reading;
    }
}
