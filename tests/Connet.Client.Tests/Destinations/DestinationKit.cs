using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Connet.Client.Tests.Destinations;

/// <summary>Helpers for destination tests: a tunnel (control, destination, tcp:// source) and target certificates.</summary>
internal static class DestinationKit
{
    /// <summary>Starts a destination client with <paramref name="destination"/> and a tcp:// source; returns the source's address once they are connected.</summary>
    public static async Task<IPEndPoint> StartTunnelAsync(ConnetClientKit kit, ConnetEndpointOptions destination) =>
        (await StartTunnelWithDestinationAsync(kit, destination)).Source;

    /// <summary>As <see cref="StartTunnelAsync"/>, also returning the destination client.</summary>
    public static async Task<(IPEndPoint Source, ConnetClient Destination)> StartTunnelWithDestinationAsync(ConnetClientKit kit, ConnetEndpointOptions destination)
    {
        destination.Route = ConnetRoute.Direct;
        var options = kit.Options(ConnetClientKit.DestinationToken);
        options.Destinations["svc"] = destination;
        var destinationClient = await kit.StartClientAsync(options);
        var source = await kit.StartSourceAsync();
        await ConnetClientKit.WaitForPeerConnectionAsync(source);
        return (ConnetClientKit.SourceAddress(source), destinationClient);
    }

    /// <summary>An HTTP/1.1 client that connects to the source's tcp:// listener whatever the request URI says.</summary>
    public static HttpClient HttpClientTo(IPEndPoint source) =>
        new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{source.Port}"),
            Timeout = TestKit.Guard,
        };

    /// <summary>Writes <paramref name="request"/> as-is to <paramref name="server"/> and reads the whole answer (the request must close the connection).</summary>
    public static async Task<string> RawHttpAsync(IPEndPoint server, string request, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port), cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        return Encoding.UTF8.GetString(await TestKit.ReadToEndAsync(stream, cancellationToken));
    }

    /// <summary>A self-signed server certificate for "localhost" and 127.0.0.1, usable by SslStream and Kestrel.</summary>
    public static X509Certificate2 CreateServerCertificate(string name = "localhost")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        // Through PKCS#12 so the key is usable wherever the platform wants it (Kestrel, SslStream).
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>A client certificate for mutual TLS (with its private key).</summary>
    public static X509Certificate2 CreateClientCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>The same certificate without its private key (what a peer would be given to trust).</summary>
    public static X509Certificate2 PublicOnly(X509Certificate2 certificate) => X509CertificateLoader.LoadCertificate(certificate.RawData);
}

/// <summary>
/// A TLS echo server on 127.0.0.1: each connection is TLS-authenticated, echoed until the client's close_notify/FIN,
/// then answered with close_notify and FIN. Counts the application bytes that reached it and the client certificates seen.
/// </summary>
internal sealed class TlsEchoServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _echoes = [];
    private readonly X509Certificate2 _certificate;
    private readonly bool _requireClientCertificate;
    private readonly Task _accepting;
    private long _received;
    private int _handshakes;

    public TlsEchoServer(X509Certificate2 certificate, bool requireClientCertificate = false)
    {
        _certificate = certificate;
        _requireClientCertificate = requireClientCertificate;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _accepting = AcceptAsync();
    }

    public string Url => $"tls://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";

    /// <summary>Application bytes received over completed handshakes.</summary>
    public long Received => Interlocked.Read(ref _received);

    public int Handshakes => Volatile.Read(ref _handshakes);

    public ConcurrentQueue<string> ClientCertificateThumbprints { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _accepting;
            await Task.WhenAll(_echoes);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // Torn down mid-echo at the end of a test.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                Socket connection = await _listener.AcceptAsync(_stop.Token);
                _echoes.Add(EchoAsync(connection));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private async Task EchoAsync(Socket connection)
    {
        using Socket owned = connection;
        await using var ssl = new SslStream(new NetworkStream(connection, ownsSocket: false));
        byte[] buffer = new byte[64 * 1024];
        try
        {
            await ssl.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ClientCertificateRequired = _requireClientCertificate,

                    // The test checks which certificate arrived; trusting it is the target's business, not ours.
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => !_requireClientCertificate || certificate is not null,
                },
                _stop.Token);
            Interlocked.Increment(ref _handshakes);
            if (ssl.RemoteCertificate is { } client)
            {
                ClientCertificateThumbprints.Enqueue(client.GetCertHashString());
            }

            int read;
            while ((read = await ssl.ReadAsync(buffer, _stop.Token)) > 0)
            {
                Interlocked.Add(ref _received, read);
                await ssl.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }

            await ssl.ShutdownAsync();
            connection.Shutdown(SocketShutdown.Send);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            // A refused handshake, or the tunnel or the test ended the connection.
        }
    }
}
