using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Api;

/// <summary>
/// Certificate pinning, mutual TLS and ALPN over real sockets: what is accepted, what is refused, and whether the
/// connecting side is told why in words.
/// </summary>
public sealed class TlsAuthenticationLoopbackTests : IDisposable
{
    private readonly X509Certificate2 _server = LoopbackKit.CreateSelfSigned("localhost");
    private readonly X509Certificate2 _client = LoopbackKit.CreateSelfSigned("client.test");
    private readonly X509Certificate2 _stranger = LoopbackKit.CreateSelfSigned("localhost");

    public void Dispose()
    {
        _server.Dispose();
        _client.Dispose();
        _stranger.Dispose();
    }

    [Fact]
    public async Task Mutual_tls_with_pinned_self_signed_leaves_is_accepted_and_each_side_sees_the_other()
    {
        await using QuicEndpoint server = QuicEndpoint.Bind(MutualServer(pinnedClient: _client));
        Task<QuicConnection> accepting = server.AcceptConnectionAsync().AsTask();

        await using QuicConnection client = await QuicConnection.ConnectAsync(
            MutualClient(server, presented: _client, pinnedServer: _server)).AsTask().WaitAsync(LoopbackKit.Guard);
        await using QuicConnection accepted = await accepting.WaitAsync(LoopbackKit.Guard);

        Assert.Equal(_server.Thumbprint, Assert.IsType<X509Certificate2>(client.RemoteCertificate, exactMatch: false).Thumbprint);
        Assert.Equal(_client.Thumbprint, Assert.IsType<X509Certificate2>(accepted.RemoteCertificate, exactMatch: false).Thumbprint);
        using var timeout = new CancellationTokenSource(LoopbackKit.Guard);
        Task echo = LoopbackKit.EchoStreamsAsync(accepted, timeout.Token);
        byte[] payload = LoopbackKit.SeededPayload(2, 10_000);
        Assert.Equal(payload, await LoopbackKit.RoundTripAsync(client, payload, timeout.Token));
    }

    [Fact]
    public async Task Client_pinning_another_server_certificate_refuses_it_and_says_so()
    {
        await using QuicEndpoint server = QuicEndpoint.Bind(MutualServer(pinnedClient: _client));

        QuicException failure = await ConnectionFailureAsync(server, MutualClient(server, presented: _client, pinnedServer: _stranger));

        Assert.Equal(QuicError.TransportError, failure.QuicError);
        Assert.Contains("server certificate", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("rejected", failure.Message, StringComparison.OrdinalIgnoreCase);
        await AssertNothingAcceptedAsync(server);
    }

    [Fact]
    public async Task Server_pinning_another_client_certificate_refuses_it_and_the_client_is_told_why()
    {
        await using QuicEndpoint server = QuicEndpoint.Bind(MutualServer(pinnedClient: _stranger));

        QuicException failure = await ConnectionFailureAsync(server, MutualClient(server, presented: _client, pinnedServer: _server));

        Assert.Equal(QuicError.TransportError, failure.QuicError);
        Assert.Contains("client certificate", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("rejected", failure.Message, StringComparison.OrdinalIgnoreCase);
        await AssertNothingAcceptedAsync(server);
    }

    [Fact]
    public async Task Server_requiring_a_client_certificate_refuses_a_client_without_one()
    {
        await using QuicEndpoint server = QuicEndpoint.Bind(MutualServer(pinnedClient: _client));
        QuicClientConnectionOptions options = MutualClient(server, presented: _client, pinnedServer: _server);
        options.ClientAuthenticationOptions.ClientCertificates = null;

        QuicException failure = await ConnectionFailureAsync(server, options);

        Assert.Equal(QuicError.TransportError, failure.QuicError);
        Assert.Contains("certificate", failure.Message, StringComparison.OrdinalIgnoreCase);
        await AssertNothingAcceptedAsync(server);
    }

    [Fact]
    public async Task Client_offering_only_an_unknown_alpn_is_refused_with_an_error_naming_the_application_protocol()
    {
        await using QuicEndpoint server = QuicEndpoint.Bind(LoopbackKit.ListeningEndpoint(_server));
        QuicClientConnectionOptions options = LoopbackKit.ClientOptions(server.LocalEndPoint, _server);
        options.ClientAuthenticationOptions.ApplicationProtocols = [new SslApplicationProtocol("not-served")];

        QuicException failure = await ConnectionFailureAsync(server, options);

        Assert.Equal(QuicError.TransportError, failure.QuicError);
        Assert.Equal(0x100 + 120, failure.TransportErrorCode); // no_application_protocol (RFC 9001 §8.1)
        Assert.Matches("(?i)ALPN|application protocol", failure.Message);
        await AssertNothingAcceptedAsync(server);
    }

    [Fact]
    public async Task Untrusted_self_signed_server_certificate_is_refused_under_default_chain_validation_with_an_error_naming_it()
    {
        await using QuicEndpoint server = QuicEndpoint.Bind(LoopbackKit.ListeningEndpoint(_server));
        QuicClientConnectionOptions options = LoopbackKit.ClientOptions(server.LocalEndPoint, _server);
        options.ClientAuthenticationOptions.RemoteCertificateValidationCallback = null;

        QuicException failure = await ConnectionFailureAsync(server, options);

        Assert.Equal(QuicError.TransportError, failure.QuicError);
        Assert.Contains("certificate", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Matches("(?i)not trusted|untrusted", failure.Message);
        await AssertNothingAcceptedAsync(server);
    }

    /// <summary>
    /// The error the client sees: from ConnectAsync when the refusal arrives during the handshake, or from the next
    /// operation when the client had already completed its side (in TLS 1.3 the server judges the client's
    /// certificate after the client has sent Finished).
    /// </summary>
    private static async Task<QuicException> ConnectionFailureAsync(QuicEndpoint server, QuicClientConnectionOptions options)
    {
        using var timeout = new CancellationTokenSource(LoopbackKit.Guard);
        QuicConnection connection;
        try
        {
            connection = await QuicConnection.ConnectAsync(options, timeout.Token);
        }
        catch (QuicException refused)
        {
            return refused;
        }

        await using QuicConnection disposeConnection = connection;
        return await Assert.ThrowsAsync<QuicException>(async () =>
        {
            await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, timeout.Token);
            await stream.WriteAsync(new byte[] { 1 }, completeWrites: true, timeout.Token);
            await LoopbackKit.ReadToEndAsync(stream, timeout.Token);
        });
    }

    private static async Task AssertNothingAcceptedAsync(QuicEndpoint server)
    {
        // The refused handshake must not surface as an accepted connection. A short wait bounds the check; a late
        // accept would still be caught by most runs, and none of this asserts how long anything took.
        using var shortWait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await server.AcceptConnectionAsync(shortWait.Token));
    }

    private QuicEndpointOptions MutualServer(X509Certificate2 pinnedClient)
    {
        QuicEndpointOptions options = LoopbackKit.ListeningEndpoint(_server);
        options.ServerConnectionOptions!.ServerAuthenticationOptions = new SslServerAuthenticationOptions
        {
            ServerCertificate = _server,
            ClientCertificateRequired = true,
            RemoteCertificateValidationCallback = LoopbackKit.Pin(pinnedClient),
        };
        return options;
    }

    private static QuicClientConnectionOptions MutualClient(QuicEndpoint server, X509Certificate2 presented, X509Certificate2 pinnedServer)
    {
        QuicClientConnectionOptions options = LoopbackKit.ClientOptions(server.LocalEndPoint, pinnedServer);
        options.ClientAuthenticationOptions.TargetHost = "localhost";
        options.ClientAuthenticationOptions.ClientCertificates = [presented];
        return options;
    }
}
