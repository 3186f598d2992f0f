using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Interop;

/// <summary>
/// Our stack against an independent one (quiche 0.18 + BoringSSL, see <see cref="NodeQuicPeer"/>):
/// our client to its echo server and its echo client to our listener, each a handshake plus a
/// 1 MiB bidi stream echo checked byte for byte, once with the default groups (X25519 preferred)
/// and once with P-256 only. Its server always sends Retry, so every client-side test also covers
/// Retry; its client sends only an x25519 key share, so a P-256-only listener must answer with a
/// HelloRetryRequest.
/// </summary>
public sealed class OurStackInteropTests : IDisposable
{
    /// <summary>Guards against hangs only; nothing asserts how long anything took. The node stream layer is slow (~10 Mbit/s).</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(50);

    /// <summary>0x100 + certificate_required(116): the TLS alert as a QUIC CRYPTO_ERROR (RFC 9001 §4.8, RFC 8446 §4.4.2.4).</summary>
    private const long CertificateRequiredCryptoError = 0x100 + 116;

    private static readonly SslApplicationProtocol Alpn = new(NodeQuicPeer.DefaultAlpn);

    private readonly InteropCertificates certificates = InteropCertificates.Create();

    public void Dispose() => certificates.Dispose();

    [Theory]
    [InlineData(null, InitialPacketObserver.X25519)]
    [InlineData(QuicKeyExchangeGroup.Secp256r1, InitialPacketObserver.Secp256r1)]
    public async Task OurClientEchoesOneMebibyteThroughNodeServer(QuicKeyExchangeGroup? onlyGroup, ushort expectedGroup)
    {
        await using var server = await NodeQuicPeer.StartEchoServerAsync(certificates);
        await using var relay = new ObservingUdpRelay(server.EndPoint);

        await using var connection = await ConnectAsync(relay.EndPoint, server, onlyGroup, presentClientCertificate: false);

        Assert.Equal(Alpn, connection.NegotiatedApplicationProtocol);
        Assert.Equal(certificates.Leaf.Thumbprint, Assert.IsAssignableFrom<X509Certificate2>(connection.RemoteCertificate).Thumbprint);
        await AssertEchoAsync(connection, server);

        // quiche sends Retry to every token-less Initial; our client answered it, then shared only
        // the group asked for, and the server took that share without a HelloRetryRequest.
        var seen = relay.Observer.Snapshot();
        Assert.True(seen.Retries == 1, seen.ToString());
        var clientHello = Assert.Single(seen.ClientHellos);
        Assert.True(clientHello.KeyShareGroups.SequenceEqual([expectedGroup]), seen.ToString());
        if (onlyGroup is not null)
        {
            Assert.True(clientHello.SupportedGroups.SequenceEqual([expectedGroup]), seen.ToString());
        }

        var serverHello = Assert.Single(seen.ServerHellos);
        Assert.False(serverHello.IsHelloRetryRequest, seen.ToString());
        Assert.Equal(expectedGroup, serverHello.Group);
    }

    [Fact]
    public async Task OurClientPresentsItsCertificateToAVerifyingNodeServer()
    {
        await using var server = await NodeQuicPeer.StartEchoServerAsync(certificates, new NodeEchoServerOptions { VerifyPeer = true });

        await using var connection = await ConnectAsync(server.EndPoint, server, onlyGroup: null, presentClientCertificate: true);

        await AssertEchoAsync(connection, server);
    }

    [Fact]
    public async Task VerifyingNodeServerRefusesOurClientWithoutACertificate()
    {
        await using var server = await NodeQuicPeer.StartEchoServerAsync(certificates, new NodeEchoServerOptions { VerifyPeer = true });

        // TLS 1.3 lets the client finish before the server has judged its (empty) Certificate, so
        // the refusal may reach us as a failed connect or as the connection closing under the echo.
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var connection = await ConnectAsync(server.EndPoint, server, onlyGroup: null, presentClientCertificate: false);
            await AssertEchoAsync(connection, server);
        });

        var refusal = failure as QuicException ?? failure?.InnerException as QuicException;
        Assert.True(refusal is not null, $"expected the connection to be refused, got {failure?.ToString() ?? "success"}");
        Assert.Equal(QuicError.TransportError, refusal.QuicError);
        Assert.Equal(CertificateRequiredCryptoError, refusal.TransportErrorCode);
    }

    [Fact]
    public async Task NodeClientEchoesOneMebibyteThroughOurListenerOverX25519()
    {
        await using var listener = await ListenAsync(onlyGroup: null, requireClientCertificate: false);
        await using var relay = new ObservingUdpRelay(listener.LocalEndPoint);
        var serving = ServeOneEchoConnectionAsync(listener);

        var result = await RunNodeClientAsync(relay.EndPoint, serving, new NodeEchoClientOptions());

        Assert.Equal(NodeEchoClientOptions.OneMebibyte, result.Bytes);
        await AssertServedAsync(serving);
        var seen = relay.Observer.Snapshot();
        var clientHello = Assert.Single(seen.ClientHellos);
        Assert.True(clientHello.KeyShareGroups.SequenceEqual([InitialPacketObserver.X25519]), seen.ToString());
        var serverHello = Assert.Single(seen.ServerHellos);
        Assert.False(serverHello.IsHelloRetryRequest, seen.ToString());
        Assert.Equal(InitialPacketObserver.X25519, serverHello.Group);
    }

    [Fact]
    public async Task NodeClientEchoesOneMebibyteThroughOurP256OnlyListenerAfterAHelloRetryRequest()
    {
        await using var listener = await ListenAsync(QuicKeyExchangeGroup.Secp256r1, requireClientCertificate: false);
        await using var relay = new ObservingUdpRelay(listener.LocalEndPoint);
        var serving = ServeOneEchoConnectionAsync(listener);

        var result = await RunNodeClientAsync(relay.EndPoint, serving, new NodeEchoClientOptions());

        Assert.Equal(NodeEchoClientOptions.OneMebibyte, result.Bytes);
        await AssertServedAsync(serving);

        // quiche shares x25519 only, so our P-256-only server must ask for P-256 (RFC 8446 §4.1.4)
        // and then complete on the second ClientHello's P-256 share.
        var seen = relay.Observer.Snapshot();
        Assert.True(seen.ClientHellos.Count == 2, seen.ToString());
        Assert.True(seen.ClientHellos[0].KeyShareGroups.SequenceEqual([InitialPacketObserver.X25519]), seen.ToString());
        Assert.True(seen.ClientHellos[1].KeyShareGroups.SequenceEqual([InitialPacketObserver.Secp256r1]), seen.ToString());
        Assert.True(seen.ServerHellos.Count == 2, seen.ToString());
        Assert.Equal(new ServerHelloSeen(true, InitialPacketObserver.Secp256r1), seen.ServerHellos[0]);
        Assert.Equal(new ServerHelloSeen(false, InitialPacketObserver.Secp256r1), seen.ServerHellos[1]);
    }

    [Fact]
    public async Task NodeClientPresentsItsCertificateToOurVerifyingListener()
    {
        await using var listener = await ListenAsync(onlyGroup: null, requireClientCertificate: true);
        var serving = ServeOneEchoConnectionAsync(listener);

        var result = await RunNodeClientAsync(listener.LocalEndPoint, serving, new NodeEchoClientOptions { ClientCertificate = certificates });

        Assert.Equal(NodeEchoClientOptions.OneMebibyte, result.Bytes);
        var accepted = await serving.WaitAsync(Guard);
        Assert.Equal(certificates.Leaf.Thumbprint, accepted.ClientCertificateThumbprint);
    }

    [Fact]
    public async Task OurVerifyingListenerRefusesANodeClientWithoutACertificate()
    {
        await using var listener = await ListenAsync(onlyGroup: null, requireClientCertificate: true);
        using var stop = new CancellationTokenSource(Guard);
        var accepting = listener.AcceptConnectionAsync(stop.Token).AsTask();

        var failure = await Assert.ThrowsAsync<NodePeerException>(() => NodeQuicPeer.RunEchoClientAsync(
            listener.LocalEndPoint,
            certificates,
            new NodeEchoClientOptions { Bytes = 16, Timeout = TimeSpan.FromSeconds(20) }));
        Assert.Contains(FormattableString.Invariant($"transport code {CertificateRequiredCryptoError}"), failure.Message, StringComparison.Ordinal);

        // The refused handshake must not surface as an accepted connection.
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accepting);
    }

    private static async Task AssertServedAsync(Task<AcceptedEcho> serving)
    {
        var accepted = await serving.WaitAsync(Guard);
        Assert.Equal(NodeEchoClientOptions.OneMebibyte, accepted.EchoedBytes);
        Assert.Equal(Alpn, accepted.Alpn);
        Assert.Equal(InteropCertificates.LeafDnsName, accepted.TargetHostName);
        Assert.Null(accepted.ClientCertificateThumbprint);
    }

    private static async Task AssertEchoAsync(QuicConnection connection, NodeQuicPeer server)
    {
        var payload = InteropPayload.Generate(NodeEchoClientOptions.OneMebibyte, seed: 7);
        await using var stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional).AsTask().WaitAsync(Guard);
        var reading = ReadToEndAsync(stream);
        await stream.WriteAsync(payload, completeWrites: true).AsTask().WaitAsync(Guard);

        byte[] echoed;
        try
        {
            echoed = await reading.WaitAsync(Guard);
        }
        catch (Exception e) when (e is TimeoutException or QuicException)
        {
            throw new NodePeerException($"The echo failed ({e.Message}); node server stderr:{Environment.NewLine}{server.StandardError}", e);
        }

        Assert.Equal(payload.Length, echoed.Length);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), $"echo differs from byte {FirstDifference(payload, echoed)}");
        await connection.CloseAsync(0).AsTask().WaitAsync(Guard);
    }

    private static int FirstDifference(byte[] expected, byte[] actual) =>
        expected.AsSpan().CommonPrefixLength(actual);

    private static async Task<byte[]> ReadToEndAsync(QuicStream stream)
    {
        using var collected = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            // Bounded: the node server echoes exactly what it got; more than that is a bug, not a reason to loop on.
            if (collected.Length + read > NodeEchoClientOptions.OneMebibyte)
            {
                throw new InvalidOperationException($"The echo is longer than the {NodeEchoClientOptions.OneMebibyte} bytes sent.");
            }

            collected.Write(buffer, 0, read);
        }

        return collected.ToArray();
    }

    /// <summary>
    /// Runs the node client (trusting the interop CA) while our side serves; if our side failed,
    /// that failure explains more than the node client's "connection closed", so it wins.
    /// </summary>
    private async Task<NodeEchoClientResult> RunNodeClientAsync(IPEndPoint target, Task<AcceptedEcho> serving, NodeEchoClientOptions options)
    {
        try
        {
            return await NodeQuicPeer.RunEchoClientAsync(target, certificates, options);
        }
        catch (NodePeerException) when (serving.IsFaulted)
        {
            await serving;
            throw;
        }
    }

    private async Task<QuicConnection> ConnectAsync(IPEndPoint target, NodeQuicPeer server, QuicKeyExchangeGroup? onlyGroup, bool presentClientCertificate)
    {
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = InteropCertificates.LeafDnsName,
            ApplicationProtocols = [Alpn],
            CertificateChainPolicy = TrustOnlyTheInteropAuthority(),
        };
        if (presentClientCertificate)
        {
            authentication.ClientCertificates = [certificates.Leaf];
        }

        var options = new QuicClientConnectionOptions
        {
            RemoteEndPoint = target,
            ClientAuthenticationOptions = authentication,
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
            KeyExchangeGroups = onlyGroup is { } group ? [group] : null,
        };
        try
        {
            return await QuicConnection.ConnectAsync(options).AsTask().WaitAsync(Guard);
        }
        catch (Exception e) when (e is TimeoutException or QuicException or System.Security.Authentication.AuthenticationException)
        {
            throw new NodePeerException($"Our client's handshake failed ({e.Message}); node server stderr:{Environment.NewLine}{server.StandardError}", e);
        }
    }

    private async Task<QuicListener> ListenAsync(QuicKeyExchangeGroup? onlyGroup, bool requireClientCertificate)
    {
        var serverOptions = new QuicServerConnectionOptions
        {
            ServerAuthenticationOptions = new SslServerAuthenticationOptions
            {
                ServerCertificate = certificates.Leaf,
                ApplicationProtocols = [Alpn],
                ClientCertificateRequired = requireClientCertificate,
                CertificateChainPolicy = requireClientCertificate ? TrustOnlyTheInteropAuthority() : null,
            },
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
            KeyExchangeGroups = onlyGroup is { } group ? [group] : null,
        };
        return await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [Alpn],
            ConnectionOptionsCallback = (_, _, _) => ValueTask.FromResult(serverOptions),
        });
    }

    private X509ChainPolicy TrustOnlyTheInteropAuthority()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.Add(certificates.Authority);
        return policy;
    }

    /// <summary>Accepts one connection and echoes its first bidi stream, as echo-server.mjs does.</summary>
    private static async Task<AcceptedEcho> ServeOneEchoConnectionAsync(QuicListener listener)
    {
        using var limit = new CancellationTokenSource(Guard);
        await using var connection = await listener.AcceptConnectionAsync(limit.Token);
        await using var stream = await connection.AcceptInboundStreamAsync(limit.Token);
        var buffer = new byte[64 * 1024];
        long echoed = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, limit.Token)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), limit.Token);
            echoed += read;
        }

        stream.CompleteWrites();
        try
        {
            await stream.WritesClosed.WaitAsync(limit.Token);
        }
        catch (QuicException closed) when (closed.QuicError == QuicError.ConnectionAborted && closed.ApplicationErrorCode == 0)
        {
            // The node client closes (code 0) as soon as it has read the whole echo, which can beat its ACK of our FIN.
        }

        var clientCertificate = connection.RemoteCertificate is X509Certificate2 certificate ? certificate.Thumbprint : null;
        return new AcceptedEcho(echoed, connection.NegotiatedApplicationProtocol, connection.TargetHostName, clientCertificate);
    }

    private sealed record AcceptedEcho(long EchoedBytes, SslApplicationProtocol Alpn, string TargetHostName, string? ClientCertificateThumbprint);
}
