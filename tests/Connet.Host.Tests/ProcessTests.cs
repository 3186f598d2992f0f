using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Connet.Host.Hosting;

namespace Connet.Host.Tests;

/// <summary>The built executable as separate processes: the README quickstart, and the demo.</summary>
public sealed class ProcessTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(25);

    [Fact]
    public async Task QuickstartServerDestinationAndSourceForwardTcpByteForByte()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var directory = new TempDirectory();
        directory.WriteCertificate();
        using var echo = new EchoServer();
        int controlPort = HostRunner.FreeUdpPort(IPAddress.Loopback);
        int relayPort = HostRunner.FreeUdpPort(IPAddress.Loopback);
        int sourcePort = HostRunner.FreeTcpPort(IPAddress.Loopback);
        int statusPort = HostRunner.FreeTcpPort(IPAddress.Loopback);

        // The README quickstart configurations, verbatim but for addresses, ports and paths.
        directory.Write("server.toml", $"""
            [server]
            tokens = ["client-d-token", "client-s-token"]
            store-dir = "{directory.Path}/state"

            [[server.ingress]]
            addr = "127.0.0.1:{controlPort}"
            cert-file = "cert.pem"
            key-file = "key.pem"

            [[server.relay-ingress]]
            addr = "127.0.0.1:{relayPort}"
            """);
        directory.Write("destination.toml", $"""
            # destination.toml
            [client]
            token = "client-d-token"
            server-addr = "127.0.0.1:{controlPort}"
            server-cas-file = "cert.pem"
            direct-addr = "127.0.0.1:0"

            [client.destinations.serviceA]
            url = "tcp://127.0.0.1:{echo.Port}"
            """);
        directory.Write("source.toml", $"""
            # source.toml
            [client]
            token = "client-s-token"
            server-addr = "127.0.0.1:{controlPort}"
            server-cas-file = "cert.pem"
            direct-addr = "127.0.0.1:0"
            status-addr = "127.0.0.1:{statusPort}"

            [client.sources.serviceA]
            url = "tcp://127.0.0.1:{sourcePort}"
            """);
        var environment = new Dictionary<string, string> { ["CONNET_CACHE_DIR"] = Path.Combine(directory.Path, "cache") };

        using var server = new ConnetProcess(directory.Path, environment, "server", "--config", "server.toml");
        using var destination = new ConnetProcess(directory.Path, environment, "--config", "destination.toml");
        using var source = new ConnetProcess(directory.Path, environment, "--config", "source.toml", "--log-level", "debug");
        try
        {
            await WaitForPeerConnectionAsync(statusPort, source, timeout.Token);

            byte[] payload = RandomNumberGenerator.GetBytes(256 * 1024);
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, sourcePort, timeout.Token);
            var stream = client.GetStream();
            var writing = stream.WriteAsync(payload, timeout.Token).AsTask();
            byte[] received = new byte[payload.Length];
            await stream.ReadExactlyAsync(received, timeout.Token);
            await writing;

            Assert.Equal(payload, received);
            Assert.True(File.Exists(Path.Combine(directory.Path, "state", "control", "control.db")), "server mode keeps control state under <store-dir>/control");
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException)
        {
            Assert.Fail($"{exception.Message}\n--- server ---\n{server.Stderr}\n--- destination ---\n{destination.Stderr}\n--- source ---\n{source.Stderr}");
        }
    }

    /// <summary>
    /// The files of examples/quickstart (the README's quickstart) as they are, on their default ports (19190 control,
    /// 19191 relay, 3000 service, 8000 source). Only what one machine forces is given as flags, which override the
    /// files: the source's direct port (both clients would take 19192) and a status address to wait on.
    /// </summary>
    [Fact]
    public async Task QuickstartFilesUnchanged_RunAsThreeProcessesAndForwardPort8000To3000()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var directory = new TempDirectory();
        directory.WriteCertificate();
        string examples = Path.Combine(RepositoryRoot(), "examples", "quickstart");
        foreach (string name in new[] { "server.toml", "destination.toml", "source.toml" })
        {
            File.Copy(Path.Combine(examples, name), Path.Combine(directory.Path, name));
        }

        using var service = new EchoServer(3000);
        int statusPort = HostRunner.FreeTcpPort(IPAddress.Loopback);
        var environment = new Dictionary<string, string>
        {
            ["CONNET_CACHE_DIR"] = Path.Combine(directory.Path, "cache"),
            ["CONNET_STATE_DIR"] = Path.Combine(directory.Path, "state"),
        };

        using var server = new ConnetProcess(directory.Path, environment, "server", "--config", "server.toml");
        using var destination = new ConnetProcess(directory.Path, environment, "--config", "destination.toml");
        using var source = new ConnetProcess(directory.Path, environment, "--config", "source.toml", "--direct-addr", ":19193", "--status-addr", $"127.0.0.1:{statusPort}");
        try
        {
            await WaitForPeerConnectionAsync(statusPort, source, timeout.Token);

            byte[] payload = RandomNumberGenerator.GetBytes(64 * 1024);
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, 8000, timeout.Token);
            var stream = client.GetStream();
            var writing = stream.WriteAsync(payload, timeout.Token).AsTask();
            byte[] received = new byte[payload.Length];
            await stream.ReadExactlyAsync(received, timeout.Token);
            await writing;

            Assert.Equal(payload, received);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException)
        {
            Assert.Fail($"{exception.Message}\n--- server ---\n{server.Stderr}\n--- destination ---\n{destination.Stderr}\n--- source ---\n{source.Stderr}");
        }
    }

    [Fact]
    public async Task HttpSourceForwardsToHttpDestinationWithThePathPrefixesRewritten()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var directory = new TempDirectory();
        directory.WriteCertificate();
        int controlPort = HostRunner.FreeUdpPort(IPAddress.Loopback);
        int targetPort = HostRunner.FreeTcpPort(IPAddress.Loopback);
        int sourcePort = HostRunner.FreeTcpPort(IPAddress.Loopback);
        int statusPort = HostRunner.FreeTcpPort(IPAddress.Loopback);
        using var target = new HttpListener();
        target.Prefixes.Add($"http://127.0.0.1:{targetPort}/backend/");
        target.Start();
        var serving = ServeOneRequestAsync(target, timeout.Token);

        directory.Write("server.toml", $"""
            [server]
            tokens = ["client-d-token", "client-s-token"]
            store-dir = "{directory.Path}/state"

            [[server.ingress]]
            addr = "127.0.0.1:{controlPort}"
            cert-file = "cert.pem"
            key-file = "key.pem"
            """);
        directory.Write("destination.toml", $"""
            [client]
            token = "client-d-token"
            server-addr = "127.0.0.1:{controlPort}"
            server-cas-file = "cert.pem"
            direct-addr = "127.0.0.1:0"
            handshake-idle-timeout = "10s"

            [client.destinations.serviceA]
            url = "http://127.0.0.1:{targetPort}/backend"
            dial-timeout = "5s"
            """);
        directory.Write("source.toml", $"""
            [client]
            token = "client-s-token"
            server-addr = "127.0.0.1:{controlPort}"
            server-cas-file = "cert.pem"
            direct-addr = "127.0.0.1:0"
            status-addr = "127.0.0.1:{statusPort}"

            [client.sources.serviceA]
            url = "http://127.0.0.1:{sourcePort}/app"
            lb-policy = "least-latency"
            lb-retry = "count"
            lb-retry-max = 2
            """);
        var environment = new Dictionary<string, string> { ["CONNET_CACHE_DIR"] = Path.Combine(directory.Path, "cache") };

        using var server = new ConnetProcess(directory.Path, environment, "server", "--config", "server.toml");
        using var destination = new ConnetProcess(directory.Path, environment, "--config", "destination.toml");
        using var source = new ConnetProcess(directory.Path, environment, "--config", "source.toml");
        try
        {
            await WaitForPeerConnectionAsync(statusPort, source, timeout.Token);

            using var http = new HttpClient();
            using var response = await http.GetAsync($"http://127.0.0.1:{sourcePort}/app/hello/world?x=1", timeout.Token);
            string body = await response.Content.ReadAsStringAsync(timeout.Token);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("/backend/hello/world?x=1", body);
            Assert.Equal("/backend/hello/world?x=1", await serving);

            // No nat-pmp key: the client runs without NAT-PMP and says so; the reset key went to the cache directory.
            Assert.Contains("NAT-PMP is disabled (no nat-pmp key", destination.Stderr, StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(Path.Combine(directory.Path, "cache"), "stateless-reset-*.key"));
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException or HttpRequestException)
        {
            Assert.Fail($"{exception.Message}\n--- server ---\n{server.Stderr}\n--- destination ---\n{destination.Stderr}\n--- source ---\n{source.Stderr}");
        }
    }

    [Fact]
    public async Task DemoForwardsAConnectionAndStopsByItself()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        using var directory = new TempDirectory();
        using var demo = new ConnetProcess(directory.Path, new Dictionary<string, string>(), "demo", "--seconds", "3");
        try
        {
            string line = await demo.WaitForLineAsync("connect to 127.0.0.1:", timeout.Token);
            int port = int.Parse(line.Split("`nc 127.0.0.1 ")[1].Split('`')[0], System.Globalization.CultureInfo.InvariantCulture);

            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            var stream = client.GetStream();
            byte[] greeting = new byte[Commands.HelloService.Greeting.Length];
            await stream.ReadExactlyAsync(greeting, timeout.Token);
            Assert.Equal(Commands.HelloService.Greeting, greeting);

            byte[] payload = RandomNumberGenerator.GetBytes(4096);
            await stream.WriteAsync(payload, timeout.Token);
            byte[] echoed = new byte[payload.Length];
            await stream.ReadExactlyAsync(echoed, timeout.Token);
            Assert.Equal(payload, echoed);

            Assert.Equal(0, await demo.WaitForExitAsync(timeout.Token));
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException)
        {
            Assert.Fail($"{exception.Message}\n--- stdout ---\n{demo.Stdout}\n--- stderr ---\n{demo.Stderr}");
        }
    }

    /// <summary>Polls the source's status server until its endpoint has a live connection to a destination peer.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Connet.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Connet.sln above {AppContext.BaseDirectory}.");
    }

    private static async Task WaitForPeerConnectionAsync(int statusPort, ConnetProcess source, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        for (int attempt = 0; attempt < 200; attempt++)
        {
            Assert.False(source.HasExited, $"the source exited: {source.Stderr}");
            try
            {
                using var document = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{statusPort}/anything", cancellationToken));
                var endpoint = document.RootElement.GetProperty("endpoints")[0];
                Assert.Equal("serviceA", endpoint.GetProperty("name").GetString());
                if (endpoint.GetProperty("peers").EnumerateArray().Any(peer => peer.GetProperty("connections").GetArrayLength() > 0))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // The status server is not up yet.
            }
            catch (IndexOutOfRangeException)
            {
                // No endpoint status yet.
            }

            await Task.Delay(100, cancellationToken);
        }

        Assert.Fail("the source never connected to the destination");
    }

    /// <summary>Answers the first request with the path and query it arrived with; returns them.</summary>
    private static async Task<string> ServeOneRequestAsync(HttpListener listener, CancellationToken cancellationToken)
    {
        var context = await listener.GetContextAsync().WaitAsync(cancellationToken);
        string pathAndQuery = context.Request.Url!.PathAndQuery;
        byte[] body = System.Text.Encoding.UTF8.GetBytes(pathAndQuery);
        context.Response.ContentLength64 = body.Length;
        await context.Response.OutputStream.WriteAsync(body, cancellationToken);
        context.Response.Close();
        return pathAndQuery;
    }

    /// <summary>A TCP echo service standing in for the quickstart's service on port 3000.</summary>
    private sealed class EchoServer : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stopping = new();

        public EchoServer(int port = 0)
        {
            _listener = new TcpListener(IPAddress.Loopback, port);
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public void Dispose()
        {
            _stopping.Cancel();
            _listener.Stop();
            _stopping.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stopping.Token);
                    _ = EchoAsync(client);
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task EchoAsync(TcpClient client)
        {
            using var owned = client;
            try
            {
                await client.GetStream().CopyToAsync(client.GetStream(), _stopping.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        }
    }
}
