using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Tunnels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Yarp.ReverseProxy.Forwarder;

namespace Connet.Client.Tunnels.Sources;

/// <summary>
/// A source served by Kestrel: <c>http(s)://host:port/path</c> reverse-proxies every request under the path (the
/// prefix removed, Host set to the endpoint name) to the destination over tunnels opened by the
/// <see cref="TunnelOpener"/> (YARP's forwarder over a handler whose connections are tunnels, so HTTP/1.1 flows
/// through them and pooled connections are reused); <c>ws(s)://host:port/path</c> accepts WebSocket upgrades under
/// the path and bridges each one to its own tunnel: binary (or text) messages become tunnel bytes, tunnel bytes
/// become binary messages, a close becomes the end of the stream and the end of the stream a close.
/// A destination asking for a PROXY header is refused here per connection (502, logged): PROXY describes one TCP
/// client, and Go connet writes it for TCP and TLS sources only; a pooled HTTP connection carries many clients, so
/// any address written would be false and none at all would break the target's parsing.
/// </summary>
internal sealed partial class HttpSource : IAsyncDisposable
{
    /// <summary>How long disposal waits for in-flight requests before Kestrel aborts them.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a WebSocket caller has to answer our close (sent when the destination ended the stream).</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Bytes read from a tunnel or a WebSocket per message part.</summary>
    private const int BridgeBufferSize = 16 * 1024;

    private readonly WebApplication _app;
    private readonly TunnelOpener _opener;
    private readonly SourceUrl _url;
    private readonly ILogger _logger;
    private readonly HttpMessageInvoker _invoker;
    private readonly IHttpForwarder _forwarder;
    private readonly PrefixTransformer _transformer;
    private readonly string _destinationPrefix;
    private readonly CancellationTokenSource _stopping = new();

    private HttpSource(WebApplication app, SourceUrl url, string endpointName, TunnelOpener opener, ILogger logger)
    {
        _app = app;
        _url = url;
        _opener = opener;
        _logger = logger;
        _forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        _transformer = new PrefixTransformer(url.Path);

        // Go connet sends the endpoint name as the Host; a name that is no valid host falls back to a fixed one.
        string host = Uri.CheckHostName(endpointName) is UriHostNameType.Dns ? endpointName : "connet";
        _destinationPrefix = $"http://{host}/";
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectCallback = ConnectThroughTunnelAsync,
        });
    }

    public IPEndPoint LocalEndPoint { get; private set; } = new(IPAddress.None, 0);

    /// <summary>Starts Kestrel on <paramref name="url"/> (an http, https, ws or wss source URL).</summary>
    /// <param name="endpointName">The Host header of forwarded requests (Go connet's behaviour).</param>
    /// <param name="certificate">The HTTPS server certificate (with its private key); required for https and wss.</param>
    /// <param name="clientAuthorities">Non-empty: callers must present a certificate issued by one of these.</param>
    public static async ValueTask<HttpSource> StartAsync(
        SourceUrl url,
        string endpointName,
        TunnelOpener opener,
        X509Certificate2? certificate = null,
        X509Certificate2Collection? clientAuthorities = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(opener);
        if (!url.IsHttp)
        {
            throw new ArgumentException($"An HTTP source listens on http(s):// or ws(s)://, not {url.Scheme}.", nameof(url));
        }

        if (url.UsesTls && certificate is not { HasPrivateKey: true })
        {
            throw new ArgumentException($"A {url.Scheme.ToString().ToLowerInvariant()}:// source needs a certificate with its private key.", nameof(certificate));
        }

        X509Certificate2Collection authorities = clientAuthorities ?? [];
        IPAddress address = await url.ResolveAsync(cancellationToken).ConfigureAwait(false);
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddHttpForwarder();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, url.Port, listen =>
            {
                if (url.UsesTls)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = certificate,
                        ClientCertificateMode = authorities.Count > 0 ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
                        ClientCertificateValidation = authorities.Count > 0 ? (presented, _, _) => ClientCertificates.IsTrusted(authorities, presented) : null,
                        CheckCertificateRevocation = false,
                        HandshakeTimeout = TcpSource.TlsHandshakeTimeout,
                    });
                }
            });
        });

        WebApplication app = builder.Build();
        var source = new HttpSource(app, url, endpointName, opener, logger ?? NullLogger.Instance);
        if (url.Scheme is SourceScheme.Ws or SourceScheme.Wss)
        {
            app.UseWebSockets();
        }

        app.Run(source.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("Kestrel reports no bound address.");
            source.LocalEndPoint = new IPEndPoint(address, new Uri(bound).Port);
            return source;
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        using (var timeout = new CancellationTokenSource(StopTimeout))
        {
            try
            {
                await _app.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Kestrel aborted what was still running.
            }
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _invoker.Dispose();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!_transformer.IsUnderPrefix(context.Request.Path))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (_url.Scheme is SourceScheme.Ws or SourceScheme.Wss)
        {
            await BridgeWebSocketAsync(context).ConfigureAwait(false);
            return;
        }

        var config = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        ForwarderError error = await _forwarder.SendAsync(context, _destinationPrefix, _invoker, config, _transformer).ConfigureAwait(false);
        if (error != ForwarderError.None)
        {
            Exception? failure = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            Log.ForwardFailed(_logger, Caller(context), error.ToString(), failure?.Message ?? "?");
        }
    }

    /// <summary>The connection of a pooled HTTP/1.1 connection to the destination: a tunnel.</summary>
    private async ValueTask<Stream> ConnectThroughTunnelAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        string client = $"HTTP {context.InitialRequestMessage.RequestUri?.PathAndQuery}";
        SourceTunnel tunnel = await _opener.OpenAsync(client, linked.Token).ConfigureAwait(false)
            ?? throw new HttpRequestException("no destination could be reached for this endpoint");
        if (tunnel.ProxyProtocol != ConnetProxyProtocol.None)
        {
            await RefuseProxyProtocolAsync(tunnel, client).ConfigureAwait(false);
            throw new HttpRequestException($"the destination asks for PROXY protocol {tunnel.ProxyProtocol}, which HTTP sources do not write");
        }

        return tunnel;
    }

    private async Task BridgeWebSocketAsync(HttpContext context)
    {
        string client = Caller(context);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("This connet source accepts WebSocket upgrades only.", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        SourceTunnel? tunnel = await _opener.OpenAsync(client, linked.Token).ConfigureAwait(false);
        if (tunnel is null)
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return;
        }

        await using (tunnel.ConfigureAwait(false))
        {
            if (tunnel.ProxyProtocol != ConnetProxyProtocol.None)
            {
                await RefuseProxyProtocolAsync(tunnel, client).ConfigureAwait(false);
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                return;
            }

            using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            try
            {
                Task toTunnel = MessagesToTunnelAsync(socket, tunnel, linked.Token);
                Task fromTunnel = TunnelToMessagesAsync(tunnel, socket, linked.Token);
                Task first = await Task.WhenAny(toTunnel, fromTunnel).ConfigureAwait(false);
                if (first.IsFaulted || first.IsCanceled)
                {
                    // One direction broke: the bridge is unusable, so end the other at once.
                    tunnel.Abort();
                    socket.Abort();
                }
                else if (first == fromTunnel && await Task.WhenAny(toTunnel, Task.Delay(CloseHandshakeTimeout, linked.Token)).ConfigureAwait(false) != toTunnel)
                {
                    // We sent our close; a caller that never answers it must not hold the request forever.
                    tunnel.Abort();
                    socket.Abort();
                }

                await Task.WhenAll(toTunnel, fromTunnel).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                if (!linked.IsCancellationRequested)
                {
                    Log.BridgeFailed(_logger, client, exception.Message);
                }

                tunnel.Abort();
                socket.Abort();
            }
        }
    }

    private static async Task MessagesToTunnelAsync(WebSocket socket, SourceTunnel tunnel, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[BridgeBufferSize];
        while (true)
        {
            WebSocketReceiveResult received = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await tunnel.CompleteWritesAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            await tunnel.WriteAsync(buffer.AsMemory(0, received.Count), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task TunnelToMessagesAsync(SourceTunnel tunnel, WebSocket socket, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[BridgeBufferSize];
        while (true)
        {
            int read = await tunnel.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "the destination closed the connection", cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RefuseProxyProtocolAsync(SourceTunnel tunnel, string client)
    {
        Log.ProxyProtocolRefused(_logger, client, tunnel.Destination, tunnel.ProxyProtocol.ToString());
        tunnel.Abort();
        await tunnel.DisposeAsync().ConfigureAwait(false);
    }

    private static string Caller(HttpContext context) =>
        $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort} {context.Request.Method} {context.Request.Path}";

    /// <summary>YARP's default request copy, with the source's path prefix removed from the forwarded path.</summary>
    private sealed class PrefixTransformer(string prefix) : HttpTransformer
    {
        private readonly PathString _prefix = new(prefix);

        public bool IsUnderPrefix(PathString path) => _prefix.Value is null or "" || path.StartsWithSegments(_prefix, StringComparison.Ordinal);

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            httpContext.Request.Path.StartsWithSegments(_prefix, StringComparison.Ordinal, out PathString remainder);
            if (_prefix.Value is null or "")
            {
                remainder = httpContext.Request.Path;
            }

            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, remainder, httpContext.Request.QueryString);

            // The default copy keeps the caller's Host; Go connet sends the endpoint name (from the request URI).
            proxyRequest.Headers.Host = null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Forwarding {Caller} failed ({Error}): {Reason}")]
        public static partial void ForwardFailed(ILogger logger, string caller, string error, string reason);

        [LoggerMessage(2, LogLevel.Error, "Refused the tunnel for {Caller} to {Destination}: it asks for PROXY protocol {Version}, which only tcp:// and tls:// sources write")]
        public static partial void ProxyProtocolRefused(ILogger logger, string caller, string destination, string version);

        [LoggerMessage(3, LogLevel.Debug, "WebSocket bridge for {Caller} ended with an error: {Reason}")]
        public static partial void BridgeFailed(ILogger logger, string caller, string reason);
    }
}
