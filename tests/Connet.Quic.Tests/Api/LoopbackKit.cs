using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Api;

/// <summary>Certificates, options and stream helpers shared by the real-socket loopback tests.</summary>
internal static class LoopbackKit
{
    /// <summary>Guards against hangs only; nothing asserts how long anything took.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    public static readonly SslApplicationProtocol Alpn = new("connet-loopback");

    public static IPEndPoint AnyLoopbackPort => new(IPAddress.Loopback, 0);

    /// <summary>A self-signed ECDSA leaf for <paramref name="name"/>, valid for both server and client authentication.</summary>
    public static X509Certificate2 CreateSelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Accepts exactly the certificate whose hash equals <paramref name="pinned"/>'s, whatever the chain says.</summary>
    public static RemoteCertificateValidationCallback Pin(X509Certificate2 pinned)
    {
        string expected = pinned.GetCertHashString(HashAlgorithmName.SHA256);
        return (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString(HashAlgorithmName.SHA256) == expected;
    }

    public static QuicServerConnectionOptions ServerOptions(X509Certificate2 certificate, int maxInboundStreams = 16) => new()
    {
        ServerAuthenticationOptions = new SslServerAuthenticationOptions { ServerCertificate = certificate },
        DefaultCloseErrorCode = 0,
        DefaultStreamErrorCode = 0,
        MaxInboundBidirectionalStreams = maxInboundStreams,
    };

    public static QuicClientConnectionOptions ClientOptions(IPEndPoint server, X509Certificate2 trustedServer, int maxInboundStreams = 16) => new()
    {
        RemoteEndPoint = server,
        ClientAuthenticationOptions = new SslClientAuthenticationOptions
        {
            TargetHost = trustedServer.GetNameInfo(X509NameType.DnsName, forIssuer: false),
            ApplicationProtocols = [Alpn],
            RemoteCertificateValidationCallback = Pin(trustedServer),
        },
        DefaultCloseErrorCode = 0,
        DefaultStreamErrorCode = 0,
        MaxInboundBidirectionalStreams = maxInboundStreams,
    };

    public static QuicEndpointOptions ListeningEndpoint(X509Certificate2 certificate, int maxInboundStreams = 16) => new()
    {
        LocalEndPoint = AnyLoopbackPort,
        ServerConnectionOptions = ServerOptions(certificate, maxInboundStreams),
        ApplicationProtocols = [Alpn],
    };

    /// <summary>
    /// Serves every inbound bidirectional stream of <paramref name="connection"/> by echoing it until the connection
    /// ends or the token fires. An echo that breaks shows up as a wrong round trip on the other side, so the
    /// closing-time failures are swallowed here.
    /// </summary>
    public static async Task EchoStreamsAsync(QuicConnection connection, CancellationToken cancellationToken)
    {
        var echoes = new List<Task>();
        try
        {
            while (true)
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync(cancellationToken);
                echoes.Add(EchoAsync(stream, cancellationToken));
            }
        }
        catch (Exception exception) when (exception is QuicException or OperationCanceledException)
        {
            // The connection closed or the test is over: stop accepting.
        }

        try
        {
            await Task.WhenAll(echoes);
        }
        catch (Exception exception) when (exception is QuicException or OperationCanceledException)
        {
            // Closed mid-echo at the end of the test.
        }
    }

    /// <summary>Writes <paramref name="payload"/> with FIN on a new stream and returns what the peer sent back.</summary>
    public static async Task<byte[]> RoundTripAsync(QuicConnection connection, byte[] payload, CancellationToken cancellationToken)
    {
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken);
        Task<byte[]> reading = ReadToEndAsync(stream, cancellationToken);
        await stream.WriteAsync(payload, completeWrites: true, cancellationToken);
        return await reading;
    }

    public static async Task<byte[]> ReadToEndAsync(QuicStream stream, CancellationToken cancellationToken)
    {
        using var collected = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            collected.Write(buffer, 0, read);
        }

        return collected.ToArray();
    }

    public static byte[] SeededPayload(int seed, int length)
    {
        byte[] payload = new byte[length];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    private static async Task EchoAsync(QuicStream stream, CancellationToken cancellationToken)
    {
        await using QuicStream disposeStream = stream;
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        stream.CompleteWrites();
        await stream.WritesClosed.WaitAsync(cancellationToken);
    }
}
