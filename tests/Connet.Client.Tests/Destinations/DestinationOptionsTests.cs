using System.Net;
using System.Net.Sockets;
using Connet.Client.Tunnels;
using Connet.Client.Tunnels.Destinations;
using Microsoft.Extensions.Logging.Abstractions;

namespace Connet.Client.Tests.Destinations;

/// <summary>Validation of destination URLs and target options, URL parsing, and the tcp:// dial timeout.</summary>
public sealed class DestinationOptionsTests
{
    [Theory]
    [InlineData("tcp://127.0.0.1:3000")]
    [InlineData("tls://localhost:3000")]
    [InlineData("http://localhost:3000/path")]
    [InlineData("https://[::1]:3443")]
    [InlineData("HTTP://example.com:80/")]
    public void NetworkSchemes_AreValid(string url) => Assert.Empty(Validate(new ConnetEndpointOptions { Url = url }));

    [Fact]
    public void FileScheme_WithAnExistingFolder_IsValid_AbsoluteOrRelative()
    {
        string folder = Directory.CreateTempSubdirectory("connet-valid-").FullName;
        try
        {
            Assert.Empty(Validate(new ConnetEndpointOptions { Url = new Uri(folder).AbsoluteUri }));
            Assert.Empty(Validate(new ConnetEndpointOptions { Url = $"file:{Path.GetRelativePath(Environment.CurrentDirectory, folder)}" }));
            Assert.Empty(Validate(new ConnetEndpointOptions { Url = "file:." }));
        }
        finally
        {
            Directory.Delete(folder);
        }
    }

    [Fact]
    public void UnknownScheme_IsAnError_NamingTheEndpointAndTheScheme()
    {
        string error = Assert.Single(Validate(new ConnetEndpointOptions { Url = "ftp://host:21" }));

        Assert.StartsWith("Destinations[svc].Url: 'ftp://host:21' has the unknown scheme 'ftp'; a destination takes tcp://host:port, tls://host:port", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tcp://host", "has no valid port")]
    [InlineData("https://host/path", "has no valid port")]
    [InlineData("tls://host:99999", "has no valid port")]
    [InlineData("localhost:3000", "is not localhost://host:port")]
    [InlineData("no-scheme", "has no scheme")]
    [InlineData("tcp://host:1/path", "has a path; only http:// and https:// targets take one")]
    [InlineData("http://host:1/a?b=c", "must not have a query or fragment")]
    [InlineData("file://remote/share", "names host 'remote'")]
    public void MalformedUrl_IsAnError_SayingWhatIsWrong(string url, string problem)
    {
        string error = Assert.Single(Validate(new ConnetEndpointOptions { Url = url }));

        Assert.StartsWith("Destinations[svc].Url: ", error, StringComparison.Ordinal);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyHost_DialsThisMachine_AsTheQuickstartsTcpColonPortDoes()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = $"tcp://:{echo.EndPoint.Port}", Route = ConnetRoute.Direct });
        byte[] payload = TestKit.SeededPayload(31, 4096);
        using var guard = new CancellationTokenSource(TestKit.Guard);

        byte[] echoed = await TestKit.TcpRoundTripAsync(source, payload, guard.Token);

        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ");
        Assert.Empty(Validate(new ConnetEndpointOptions { Url = "http://:3000" }));
    }

    [Fact]
    public void MissingFolder_IsAnError_NamingTheResolvedFolder()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"connet-missing-{Guid.NewGuid():N}");

        string absolute = Assert.Single(Validate(new ConnetEndpointOptions { Url = new Uri(missing).AbsoluteUri }));
        string relative = Assert.Single(Validate(new ConnetEndpointOptions { Url = "file:./connet-no-such-folder" }));

        Assert.Equal($"Destinations[svc].Url: the folder '{missing}' of '{new Uri(missing).AbsoluteUri}' does not exist.", absolute);
        Assert.Contains($"the folder '{Path.Combine(Environment.CurrentDirectory, "connet-no-such-folder")}'", relative, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tcp://host:1")]
    [InlineData("http://host:1")]
    public void TlsSettings_OnATargetWithoutTls_AreErrors(string url)
    {
        using var client = DestinationKit.CreateClientCertificate("client");
        var errors = Validate(new ConnetEndpointOptions
        {
            Url = url,
            InsecureSkipVerify = true,
            CertificateAuthorities = [DestinationKit.PublicOnly(client)],
            Certificate = client,
        });

        Assert.Contains(errors, error => error == $"Destinations[svc].InsecureSkipVerify applies only to tls:// and https:// targets, not '{url}'.");
        Assert.Contains(errors, error => error == $"Destinations[svc].CertificateAuthorities apply only to tls:// and https:// targets, not '{url}'.");
        Assert.Contains(errors, error => error.StartsWith("Destinations[svc].Certificate (a client certificate for mutual TLS) applies only to tls:// and https://", StringComparison.Ordinal));
        Assert.Contains(errors, error => error == "Destinations[svc]: set either InsecureSkipVerify or CertificateAuthorities, not both.");
        Assert.Equal(4, errors.Count);
    }

    [Fact]
    public void ClientCertificate_WithoutAPrivateKey_IsAnError()
    {
        using var client = DestinationKit.CreateClientCertificate("client");
        using var publicOnly = DestinationKit.PublicOnly(client);

        string error = Assert.Single(Validate(new ConnetEndpointOptions { Url = "tls://host:1", Certificate = publicOnly }));

        Assert.Equal("Destinations[svc].Certificate has no private key; a client certificate for mutual TLS needs one.", error);
    }

    [Fact]
    public void ClientCertificate_WithItsKey_OnATlsTarget_IsValid()
    {
        using var client = DestinationKit.CreateClientCertificate("client");

        Assert.Empty(Validate(new ConnetEndpointOptions { Url = "https://host:1", Certificate = client, InsecureSkipVerify = true }));
    }

    [Theory]
    [InlineData("file:./relative/dir", "./relative/dir")]
    [InlineData("file:///srv/www", "/srv/www")]
    [InlineData("file://localhost/srv/www", "/srv/www")]
    [InlineData("file:///srv/with%20space", "/srv/with space")]
    public void FileUrl_Parses_ToItsFolder(string url, string folder)
    {
        TunnelUrl parsed = TunnelUrl.Parse(url);

        Assert.True(parsed.IsFile);
        Assert.Equal(folder, parsed.Path);
    }

    [Theory]
    [InlineData("http://host:80/base/", "http", "host", 80, "/base")]
    [InlineData("TLS://[::1]:443", "tls", "::1", 443, "")]
    [InlineData("tcp://:8000", "tcp", "", 8000, "")]
    public void NetworkUrl_Parses_IntoSchemeHostPortAndPath(string url, string scheme, string host, int port, string path) =>
        Assert.Equal(new TunnelUrl(scheme, host, port, path), TunnelUrl.Parse(url));

    [Fact]
    public void TcpUrl_KeepsItsApi() => Assert.Equal(new TcpUrl("127.0.0.1", 80), TcpUrl.Parse("tcp://127.0.0.1:80"));

    [Fact]
    public async Task TcpDial_ThatCannotConnectInTime_FailsNamingTheTargetAndTheTimeout()
    {
        // A listener that never accepts, its backlog filled: further connection attempts get no answer.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            using var guard = new CancellationTokenSource(TestKit.Guard);
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(guard.Token);
                attempt.CancelAfter(TimeSpan.FromMilliseconds(500));
                try
                {
                    await filler.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), attempt.Token);
                }
                catch (OperationCanceledException) when (!guard.IsCancellationRequested)
                {
                    break; // The backlog is full.
                }
            }

            var dial = TcpDestination.Dialer($"tcp://127.0.0.1:{port}", TimeSpan.FromMilliseconds(300));
            var timeout = await Assert.ThrowsAsync<TimeoutException>(async () => await dial(guard.Token));

            Assert.Equal($"connecting to tcp://127.0.0.1:{port} took longer than the dial timeout of 0.3 s", timeout.Message);
        }
        finally
        {
            foreach (var filler in fillers)
            {
                filler.Dispose();
            }
        }
    }

    [Fact]
    public async Task HttpTarget_RefusesDialsUntilStarted_AndStopsWhetherStartedOrNot()
    {
        using var guard = new CancellationTokenSource(TestKit.Guard);
        var options = new ConnetEndpointOptions { Url = "http://127.0.0.1:1" };
        await using var neverStarted = DestinationTarget.Create("svc", options, NullLoggerFactory.Instance);
        await using var started = DestinationTarget.Create("svc", options, NullLoggerFactory.Instance);

        var early = await Assert.ThrowsAsync<InvalidOperationException>(async () => await neverStarted.DialAsync(guard.Token));
        await started.StartAsync(guard.Token);
        await using (Stream connection = await started.DialAsync(guard.Token))
        {
            await connection.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray(), guard.Token);
            Assert.StartsWith("HTTP/1.1 502 ", System.Text.Encoding.ASCII.GetString(await TestKit.ReadToEndAsync(connection, guard.Token)), StringComparison.Ordinal);
        }

        await started.DisposeAsync().AsTask().WaitAsync(guard.Token);
        var late = await Assert.ThrowsAsync<InvalidOperationException>(async () => await started.DialAsync(guard.Token));

        Assert.Contains("not listening", early.Message, StringComparison.Ordinal);
        Assert.Contains("not listening", late.Message, StringComparison.Ordinal);
    }

    private static IReadOnlyList<string> Validate(ConnetEndpointOptions destination)
    {
        var options = new ConnetClientOptions { Token = "token" };
        options.Destinations["svc"] = destination;
        return options.Validate();
    }
}
