using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Connet.Client.Tests.Sources;

/// <summary>http:// and ws:// sources end to end, the destinations tcp:// to test servers.</summary>
public sealed class HttpSourceTests
{
    [Fact]
    public async Task Http_source_forwards_requests_under_its_path_with_the_prefix_removed_and_refuses_others()
    {
        await using var target = await HttpTarget.StartAsync();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, target.Url);
        var source = await SourceKit.StartSourceAsync(kit, "http://127.0.0.1:0/api");
        await SourceKit.WaitForDestinationsAsync(source, 1);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{ConnetClientKit.SourceAddress(source)}") };
        using var guard = new CancellationTokenSource(TestKit.Guard);

        string hello = await http.GetStringAsync(new Uri("/api/hello?x=1", UriKind.Relative), guard.Token);
        using var posted = await http.PostAsync(new Uri("/api/echo", UriKind.Relative), new StringContent("body bytes"), guard.Token);
        string root = await http.GetStringAsync(new Uri("/api", UriKind.Relative), guard.Token);
        using var outside = await http.GetAsync(new Uri("/apix/hello", UriKind.Relative), guard.Token);

        // The target saw the path below the prefix, and the endpoint name as its Host (Go connet's behaviour).
        Assert.Equal("GET svc /hello?x=1 ", hello);
        Assert.Equal("POST svc /echo body bytes", await posted.Content.ReadAsStringAsync(guard.Token));
        Assert.Equal("GET svc / ", root);
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Equal(3, target.Requests);
    }

    [Fact]
    public async Task Http_source_answers_502_when_the_destination_asks_for_a_proxy_header()
    {
        await using var target = await HttpTarget.StartAsync();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, target.Url, ConnetProxyProtocol.V1);
        var source = await SourceKit.StartSourceAsync(kit, "http://127.0.0.1:0");
        await SourceKit.WaitForDestinationsAsync(source, 1);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{ConnetClientKit.SourceAddress(source)}") };
        using var guard = new CancellationTokenSource(TestKit.Guard);

        using var response = await http.GetAsync(new Uri("/hello", UriKind.Relative), guard.Token);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(0, target.Requests);
    }

    [Fact]
    public async Task Ws_source_bridges_binary_messages_to_a_tcp_echo_and_closes_on_its_end()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, echo.Url);
        var source = await SourceKit.StartSourceAsync(kit, "ws://127.0.0.1:0");
        await SourceKit.WaitForDestinationsAsync(source, 1);
        using var guard = new CancellationTokenSource(TestKit.Guard);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{ConnetClientKit.SourceAddress(source)}/"), guard.Token);

        byte[][] messages = [.. Enumerable.Range(0, 20).Select(seed => TestKit.SeededPayload(seed, 1 + (seed * 997)))];
        foreach (byte[] message in messages)
        {
            await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, guard.Token);
        }

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", guard.Token);

        // The tunnel is a byte stream: echoed bytes may come back in other message boundaries, so compare the bytes.
        using var received = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        WebSocketReceiveResult result;
        int frames = 0;
        while ((result = await socket.ReceiveAsync(buffer, guard.Token)).MessageType != WebSocketMessageType.Close)
        {
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            received.Write(buffer, 0, result.Count);
            Assert.True(++frames < 10_000, "too many frames");
        }

        Assert.Equal([.. messages.SelectMany(message => message)], received.ToArray());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal(1, echo.Accepted);
    }

    [Fact]
    public async Task Ws_source_refuses_plain_requests()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        var source = await SourceKit.StartSourceAsync(kit, "ws://127.0.0.1:0/socket");
        using var http = new HttpClient { BaseAddress = new Uri($"http://{ConnetClientKit.SourceAddress(source)}") };
        using var guard = new CancellationTokenSource(TestKit.Guard);

        using var plain = await http.GetAsync(new Uri("/socket", UriKind.Relative), guard.Token);
        using var outside = await http.GetAsync(new Uri("/other", UriKind.Relative), guard.Token);

        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
    }

    [Fact]
    public async Task Https_source_serves_over_tls_with_its_certificate()
    {
        await using var target = await HttpTarget.StartAsync();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, target.Url);
        var source = await SourceKit.StartSourceAsync(kit, "https://127.0.0.1:0", options => options.Certificate = ServerCertificate);
        await SourceKit.WaitForDestinationsAsync(source, 1);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => IsServerCertificate(certificate) };
        using var https = new HttpClient(handler) { BaseAddress = new Uri($"https://{ConnetClientKit.SourceAddress(source)}") };
        using var guard = new CancellationTokenSource(TestKit.Guard);

        string answer = await https.GetStringAsync(new Uri("/secure", UriKind.Relative), guard.Token);

        Assert.Equal("GET svc /secure ", answer);
    }

    [Fact]
    public async Task Wss_source_with_client_authorities_bridges_a_trusted_client_and_refuses_one_without_a_certificate()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, echo.Url);
        var source = await SourceKit.StartSourceAsync(kit, "wss://127.0.0.1:0", options =>
        {
            options.Certificate = ServerCertificate;
            options.CertificateAuthorities = [X509CertificateLoader.LoadCertificate(TrustedClient.RawData)];
        });
        await SourceKit.WaitForDestinationsAsync(source, 1);
        var uri = new Uri($"wss://{ConnetClientKit.SourceAddress(source)}/");
        using var guard = new CancellationTokenSource(TestKit.Guard);

        using (var anonymous = new ClientWebSocket())
        {
            anonymous.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => IsServerCertificate(certificate);
            await Assert.ThrowsAsync<WebSocketException>(() => anonymous.ConnectAsync(uri, guard.Token));
        }

        using var trusted = new ClientWebSocket();
        trusted.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => IsServerCertificate(certificate);
        trusted.Options.ClientCertificates = [TrustedClient];
        await trusted.ConnectAsync(uri, guard.Token);
        byte[] message = TestKit.SeededPayload(9, 100);
        await trusted.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, guard.Token);
        byte[] buffer = new byte[message.Length];
        int received = 0;
        for (int frame = 0; received < message.Length && frame < 100; frame++)
        {
            ValueWebSocketReceiveResult result = await trusted.ReceiveAsync(buffer.AsMemory(received), guard.Token);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            received += result.Count;
        }

        Assert.Equal(message, buffer);
        Assert.Equal(1, echo.Accepted);
    }

    private static readonly X509Certificate2 ServerCertificate = ConnetClientKit.CreateSelfSigned("source.connet.test");
    private static readonly X509Certificate2 TrustedClient = ConnetClientKit.CreateSelfSigned("trusted.client.test");

    private static bool IsServerCertificate(X509Certificate? certificate) =>
        certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(ServerCertificate.RawData);

    /// <summary>A Kestrel app on 127.0.0.1 answering "METHOD HOST PATH?QUERY BODY" to every request.</summary>
    private sealed class HttpTarget : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private HttpTarget(WebApplication app) => _app = app;

        public string Url { get; private set; } = string.Empty;

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<HttpTarget> StartAsync()
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var target = new HttpTarget(app);
            app.Run(async context =>
            {
                Interlocked.Increment(ref target._requests);
                using var reader = new StreamReader(context.Request.Body);
                string body = await reader.ReadToEndAsync(context.RequestAborted);
                await context.Response.WriteAsync($"{context.Request.Method} {context.Request.Host} {context.Request.Path}{context.Request.QueryString} {body}", context.RequestAborted);
            });
            await app.StartAsync().WaitAsync(TestKit.Guard);
            string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            target.Url = $"tcp://127.0.0.1:{new Uri(bound).Port}";
            return target;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync().WaitAsync(TestKit.Guard);
            await _app.DisposeAsync();
        }
    }
}
