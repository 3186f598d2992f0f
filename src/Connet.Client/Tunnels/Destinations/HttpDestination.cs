using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Connet.Client.Tunnels.Destinations;

/// <summary>
/// A destination served over HTTP/1.1 by an in-process Kestrel (no TCP port): tunnelled streams become Kestrel
/// connections, and each request is either forwarded to an <c>http(s)://</c> target by YARP or answered from a
/// <c>file:</c> folder.
/// </summary>
internal sealed partial class HttpDestination : IDestinationTarget
{
    /// <summary>How long stopping waits for requests in flight before Kestrel aborts them.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(2);

    private readonly WebApplication _app;
    private readonly InProcessTransport _transport;
    private readonly IDisposable? _owned;
    private int _disposed;

    private HttpDestination(WebApplication app, InProcessTransport transport, IDisposable? owned)
    {
        _app = app;
        _transport = transport;
        _owned = owned;
    }

    /// <summary>
    /// Forwards every request to <paramref name="target"/>, its path appended to the target's (request <c>/a</c> to
    /// <c>http://t:3000/base</c> goes to <c>/base/a</c>), with the target's Host header.
    /// </summary>
    /// <param name="tls">How to authenticate an <c>https://</c> target; null for <c>http://</c>.</param>
    /// <param name="dialTimeout">How long connecting to the target may take; <see cref="TimeSpan.Zero"/> adds no limit of our own.</param>
    public static HttpDestination ReverseProxy(string endpoint, TunnelUrl target, TargetTls? tls, TimeSpan dialTimeout, ILoggerFactory loggerFactory)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = dialTimeout > TimeSpan.Zero ? dialTimeout : Timeout.InfiniteTimeSpan,
        };
        if (tls is not null)
        {
            handler.SslOptions = tls.Apply(new SslClientAuthenticationOptions());
        }

        var invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        string prefix = $"{target.Scheme}://{target.Authority}{target.Path}";
        var (app, transport) = Build(endpoint, loggerFactory, forwardsBodies: true, services => services.AddHttpForwarder());
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var logger = loggerFactory.CreateLogger<HttpDestination>();
        var requestConfig = new ForwarderRequestConfig();
        app.Run(async context =>
        {
            ForwarderError error = await forwarder.SendAsync(context, prefix, invoker, requestConfig, HttpTransformer.Default).ConfigureAwait(false);
            if (error != ForwarderError.None)
            {
                var failure = context.Features.Get<IForwarderErrorFeature>();
                Log.ForwardFailed(logger, endpoint, context.Request.Path, prefix, error.ToString(), failure?.Exception?.Message ?? "-");
            }
        });
        return new HttpDestination(app, transport, invoker);
    }

    /// <summary>
    /// Serves the files under <paramref name="root"/> (index.html for a folder, 404 for anything missing, nothing
    /// outside the root, no directory listings, no dot-files).
    /// </summary>
    public static HttpDestination Files(string endpoint, string root, ILoggerFactory loggerFactory)
    {
        var (app, transport) = Build(endpoint, loggerFactory, forwardsBodies: false, services => { });
        var files = new PhysicalFileProvider(root);
        app.UseFileServer(new FileServerOptions
        {
            FileProvider = files,
            EnableDirectoryBrowsing = false,
            EnableDefaultFiles = true,
            StaticFileOptions =
            {
                // Go's http.FileServer serves every file; without this, unknown extensions would be 404.
                ServeUnknownFileTypes = true,
                DefaultContentType = "application/octet-stream",
            },
        });
        return new HttpDestination(app, transport, files);
    }

    public async ValueTask StartAsync(CancellationToken cancellationToken) =>
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask<Stream> DialAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_transport.Connect());

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            using var stopping = new CancellationTokenSource(StopTimeout);
            await _app.StopAsync(stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Requests still running past the grace period were aborted; stopping goes on.
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _owned?.Dispose();
    }

    /// <param name="forwardsBodies">Lift Kestrel's 30 MB request body limit: a proxy passes uploads of any size, as Go connet does.</param>
    private static (WebApplication App, InProcessTransport Transport) Build(string endpoint, ILoggerFactory loggerFactory, bool forwardsBodies, Action<IServiceCollection> configure)
    {
        // The empty builder reads no configuration (no ASPNETCORE_URLS, no appsettings.json) and opens no port.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = $"connet-destination-{endpoint}" });
        var transport = new InProcessTransport();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (forwardsBodies)
            {
                kestrel.Limits.MaxRequestBodySize = null;
            }

            kestrel.Listen(new InProcessEndPoint(endpoint));
        });
        builder.Services.AddSingleton<IConnectionListenerFactory>(transport);
        builder.Services.AddLogging();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));

        // The client's host owns Ctrl+C and SIGTERM; this embedded server must not react to them on its own.
        builder.Services.Replace(ServiceDescriptor.Singleton<IHostLifetime, EmbeddedLifetime>());
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = StopTimeout);
        configure(builder.Services);
        return (builder.Build(), transport);
    }

    /// <summary>A host lifetime that waits for nothing and registers no signal handlers.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Destination {Endpoint}: forwarding {Path} to {Target} failed ({Error}): {Reason}")]
        public static partial void ForwardFailed(ILogger logger, string endpoint, string path, string target, string error, string reason);
    }
}
