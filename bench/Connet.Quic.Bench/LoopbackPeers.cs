using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Bench;

/// <summary>A listening endpoint on 127.0.0.1 with a throwaway certificate, and client options that trust exactly it.</summary>
internal sealed class LoopbackPeers : IDisposable
{
    private static readonly SslApplicationProtocol Alpn = new("connet-bench");

    private readonly X509Certificate2 _certificate = CreateCertificate();

    public void Dispose() => _certificate.Dispose();

    public QuicEndpoint BindServer() => QuicEndpoint.Bind(new QuicEndpointOptions
    {
        LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ServerConnectionOptions = new QuicServerConnectionOptions
        {
            ServerAuthenticationOptions = new SslServerAuthenticationOptions { ServerCertificate = _certificate },
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
            MaxInboundBidirectionalStreams = 16,
            InitialReceiveWindowSizes = ReceiveWindows(),
        },
        ApplicationProtocols = [Alpn],
        ListenBacklog = 64,
    });

    public QuicClientConnectionOptions ClientOptions(IPEndPoint server) => new()
    {
        RemoteEndPoint = server,
        ClientAuthenticationOptions = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [Alpn],
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _certificate.GetCertHashString(),
        },
        DefaultCloseErrorCode = 0,
        DefaultStreamErrorCode = 0,
        MaxInboundBidirectionalStreams = 16,
    };

    /// <summary>BENCH_STREAM_WINDOW_MIB overrides the stream receive window, to see whether flow control limits a run.</summary>
    private static QuicReceiveWindowSizes ReceiveWindows()
    {
        var windows = new QuicReceiveWindowSizes();
        if (int.TryParse(Environment.GetEnvironmentVariable("BENCH_STREAM_WINDOW_MIB"), out int mebibytes))
        {
            windows.Stream = mebibytes * 1024L * 1024;
            windows.Connection = Math.Max(windows.Connection, 2 * windows.Stream);
        }

        return windows;
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}
