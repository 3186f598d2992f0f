using System.Net;
using System.Net.Security;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Quic;

namespace Connet.Client.Tests;

/// <summary>Behaviour of Connet.Quic the peer layer relies on.</summary>
public sealed class QuicFindingsTests
{
    [Fact]
    public async Task Throwing_connection_options_callback_closes_the_client_handshake_instead_of_leaving_it_to_time_out()
    {
        using var certificates = PeerCertificates.Create();
        await using QuicEndpoint server = QuicEndpoint.Bind(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.PeerToPeer),
            ConnectionOptionsCallback = (_, _, _) => throw new InvalidOperationException("refused"),
        });
        var options = new QuicClientConnectionOptions
        {
            RemoteEndPoint = server.LocalEndPoint,
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
            // Far longer than the guard below: only a CONNECTION_CLOSE from the server can end the handshake in time.
            HandshakeTimeout = TimeSpan.FromMinutes(5),
            IdleTimeout = TimeSpan.FromMinutes(5),
            ClientAuthenticationOptions = new SslClientAuthenticationOptions
            {
                TargetHost = certificates.ServerName,
                ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.PeerToPeer),
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(certificates.Server.RawData),
            },
        };
        using var guard = new CancellationTokenSource(TestKit.Guard);

        await Assert.ThrowsAsync<QuicException>(async () => await QuicConnection.ConnectAsync(options, guard.Token));
    }
}
