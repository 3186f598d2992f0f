using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Api;

/// <summary>End-to-end over 127.0.0.1: enabled once the connection core is merged.</summary>
public sealed class LoopbackTests : IDisposable
{

    /// <summary>Guards against hangs only; nothing asserts how long anything took.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);

    private static readonly SslApplicationProtocol Alpn = new("connet-test");

    private readonly X509Certificate2 _certificate = CreateCertificate();

    public void Dispose() => _certificate.Dispose();

    [Fact]
    public async Task Listener_and_client_complete_the_handshake_and_agree_on_alpn()
    {
        await using QuicListener listener = await ListenAsync();
        Task<QuicConnection> accepting = listener.AcceptConnectionAsync().AsTask();

        await using QuicConnection client = await QuicConnection.ConnectAsync(ClientOptions(listener.LocalEndPoint)).AsTask().WaitAsync(Guard);
        await using QuicConnection server = await accepting.WaitAsync(Guard);

        Assert.Equal(Alpn, client.NegotiatedApplicationProtocol);
        Assert.Equal(Alpn, server.NegotiatedApplicationProtocol);
        Assert.Equal("localhost", server.TargetHostName);
        Assert.Equal(_certificate.Thumbprint, Assert.IsType<X509Certificate2>(client.RemoteCertificate, exactMatch: false).Thumbprint);
        Assert.Equal(client.LocalEndPoint.Port, server.RemoteEndPoint.Port);
    }

    [Fact]
    public async Task Bidirectional_stream_echoes_a_megabyte_and_both_sides_see_the_fin()
    {
        (QuicEndpoint serverEndpoint, QuicConnection client, QuicConnection server) = await ConnectPairAsync();
        await using QuicEndpoint disposeServerEndpoint = serverEndpoint;
        await using QuicConnection disposeClient = client;
        await using QuicConnection disposeServer = server;
        byte[] payload = new byte[1024 * 1024];
        new Random(1).NextBytes(payload);

        Task echo = Task.Run(async () =>
        {
            await using QuicStream inbound = await server.AcceptInboundStreamAsync();
            byte[] buffer = new byte[16 * 1024];
            int read;
            while ((read = await inbound.ReadAsync(buffer)) > 0)
            {
                await inbound.WriteAsync(buffer.AsMemory(0, read));
            }

            inbound.CompleteWrites();
            await inbound.WritesClosed;
        });

        await using QuicStream stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        Task<byte[]> readBack = ReadToEndAsync(stream);
        await stream.WriteAsync(payload, completeWrites: true);

        Assert.Equal(payload, await readBack.WaitAsync(Guard));
        await echo.WaitAsync(Guard);
        await stream.ReadsClosed.WaitAsync(Guard);
        Assert.Equal(QuicStreamType.Bidirectional, stream.Type);
        Assert.Equal(0, stream.Id);
    }

    [Fact]
    public async Task Peer_close_fails_pending_operations_with_its_application_error()
    {
        (QuicEndpoint serverEndpoint, QuicConnection client, QuicConnection server) = await ConnectPairAsync();
        await using QuicEndpoint disposeServerEndpoint = serverEndpoint;
        await using QuicConnection disposeClient = client;
        Task<QuicStream> pendingAccept = client.AcceptInboundStreamAsync().AsTask();

        await server.CloseAsync(42).AsTask().WaitAsync(Guard);

        var exception = await Assert.ThrowsAsync<QuicException>(() => pendingAccept.WaitAsync(Guard));
        Assert.Equal(QuicError.ConnectionAborted, exception.QuicError);
        Assert.Equal(42, exception.ApplicationErrorCode);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Reading_after_the_peer_reset_the_stream_throws_StreamAborted_with_its_code()
    {
        (QuicEndpoint serverEndpoint, QuicConnection client, QuicConnection server) = await ConnectPairAsync();
        await using QuicEndpoint disposeServerEndpoint = serverEndpoint;
        await using QuicConnection disposeClient = client;
        await using QuicConnection disposeServer = server;

        await using QuicStream stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync(new byte[] { 1 });
        await using QuicStream inbound = await server.AcceptInboundStreamAsync().AsTask().WaitAsync(Guard);
        inbound.Abort(QuicAbortDirection.Write, 7);

        var exception = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            byte[] buffer = new byte[16];
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        }).WaitAsync(Guard);
        Assert.Equal(QuicError.StreamAborted, exception.QuicError);
        Assert.Equal(7, exception.ApplicationErrorCode);
    }

    [Fact]
    public async Task Two_listening_endpoints_dial_each_other_from_their_own_sockets_and_still_carry_raw_datagrams()
    {
        await using QuicEndpoint a = QuicEndpoint.Bind(ListeningEndpointOptions());
        await using QuicEndpoint b = QuicEndpoint.Bind(ListeningEndpointOptions());

        Task<QuicConnection> bAccepts = b.AcceptConnectionAsync().AsTask();
        await using QuicConnection aToB = await a.ConnectAsync(ClientOptions(b.LocalEndPoint)).AsTask().WaitAsync(Guard);
        await using QuicConnection bFromA = await bAccepts.WaitAsync(Guard);
        Task<QuicConnection> aAccepts = a.AcceptConnectionAsync().AsTask();
        await using QuicConnection bToA = await b.ConnectAsync(ClientOptions(a.LocalEndPoint)).AsTask().WaitAsync(Guard);
        await using QuicConnection aFromB = await aAccepts.WaitAsync(Guard);

        Assert.Equal(a.LocalEndPoint, aToB.LocalEndPoint);
        Assert.Equal(a.LocalEndPoint.Port, bFromA.RemoteEndPoint.Port);
        await a.SendRawDatagramAsync(new byte[] { 0x00, 1 }, b.LocalEndPoint);
        Assert.Equal(new byte[] { 0x00, 1 }, (await b.ReceiveRawDatagramAsync().AsTask().WaitAsync(Guard)).Data.ToArray());
    }

    [Fact]
    public async Task Handshake_succeeds_through_a_retry()
    {
        QuicEndpointOptions options = ListeningEndpointOptions();
        options.RequireRetry = true;
        await using QuicEndpoint server = QuicEndpoint.Bind(options);
        Task<QuicConnection> accepting = server.AcceptConnectionAsync().AsTask();

        await using QuicConnection client = await QuicConnection.ConnectAsync(ClientOptions(server.LocalEndPoint)).AsTask().WaitAsync(Guard);
        await using QuicConnection accepted = await accepting.WaitAsync(Guard);

        Assert.Equal(Alpn, accepted.NegotiatedApplicationProtocol);
    }

    [Fact]
    public async Task Disposing_the_endpoint_fails_a_pending_read_with_OperationAborted()
    {
        (QuicEndpoint serverEndpoint, QuicConnection client, QuicConnection server) = await ConnectPairAsync();
        await using QuicConnection disposeClient = client;
        await using QuicStream stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await stream.WriteAsync(new byte[] { 1 });
        QuicStream inbound = await server.AcceptInboundStreamAsync().AsTask().WaitAsync(Guard);
        byte[] buffer = new byte[16];
        Assert.Equal(1, await inbound.ReadAsync(buffer));
        Task<int> pendingRead = inbound.ReadAsync(buffer).AsTask();

        await serverEndpoint.DisposeAsync();

        var exception = await Assert.ThrowsAsync<QuicException>(() => pendingRead.WaitAsync(Guard));
        Assert.Equal(QuicError.OperationAborted, exception.QuicError);
    }

    private static async Task<byte[]> ReadToEndAsync(QuicStream stream)
    {
        using var collected = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            collected.Write(buffer, 0, read);
        }

        return collected.ToArray();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private async Task<(QuicEndpoint ServerEndpoint, QuicConnection Client, QuicConnection Server)> ConnectPairAsync()
    {
        QuicEndpoint serverEndpoint = QuicEndpoint.Bind(ListeningEndpointOptions());
        Task<QuicConnection> accepting = serverEndpoint.AcceptConnectionAsync().AsTask();
        QuicConnection client = await QuicConnection.ConnectAsync(ClientOptions(serverEndpoint.LocalEndPoint)).AsTask().WaitAsync(Guard);
        return (serverEndpoint, client, await accepting.WaitAsync(Guard));
    }

    private async Task<QuicListener> ListenAsync() => await QuicListener.ListenAsync(new QuicListenerOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ApplicationProtocols = [Alpn],
        ConnectionOptionsCallback = (_, _, _) => ValueTask.FromResult(ServerOptions()),
    });

    private QuicEndpointOptions ListeningEndpointOptions() => new()
    {
        LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ServerConnectionOptions = ServerOptions(),
        ApplicationProtocols = [Alpn],
    };

    private QuicServerConnectionOptions ServerOptions() => new()
    {
        ServerAuthenticationOptions = new SslServerAuthenticationOptions { ServerCertificate = _certificate },
        DefaultCloseErrorCode = 0,
        DefaultStreamErrorCode = 0,
        MaxInboundBidirectionalStreams = 10,
    };

    private QuicClientConnectionOptions ClientOptions(IPEndPoint server) => new()
    {
        RemoteEndPoint = server,
        ClientAuthenticationOptions = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [Alpn],

            // Self-signed: trust exactly our test certificate.
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _certificate.GetCertHashString(),
        },
        DefaultCloseErrorCode = 0,
        DefaultStreamErrorCode = 0,
        MaxInboundBidirectionalStreams = 10,
    };
}
