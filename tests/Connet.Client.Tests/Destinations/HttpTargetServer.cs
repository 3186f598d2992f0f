using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace Connet.Client.Tests.Destinations;

/// <summary>
/// A tiny HTTP(S) target on a loopback port that answers every request with what it received:
/// <c>method path?query</c>, <c>host=</c> the Host header, then the request body.
/// </summary>
internal sealed class HttpTargetServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpTargetServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The target's base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; }

    public string Authority => new Uri(Url).Authority;

    /// <param name="requireClientCertificate">Ask for a client certificate (any is accepted) and add a <c>client=</c> line with its thumbprint.</param>
    public static async Task<HttpTargetServer> StartAsync(X509Certificate2? certificate = null, bool requireClientCertificate = false)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = certificate,
                        ClientCertificateMode = requireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
                        ClientCertificateValidation = (_, _, _) => true,
                    });
                }
            }));
        var app = builder.Build();
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            context.Response.ContentType = "application/octet-stream";
            await context.Response.WriteAsync(
                $"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}\nhost={context.Request.Host}\n",
                context.RequestAborted);
            if (context.Connection.ClientCertificate is { } client)
            {
                await context.Response.WriteAsync($"client={client.GetCertHashString()}\n", context.RequestAborted);
            }

            await context.Response.Body.WriteAsync(body.ToArray(), context.RequestAborted);
        });
        await app.StartAsync().WaitAsync(TestKit.Guard);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new HttpTargetServer(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stopping.Token);
        await _app.DisposeAsync();
    }
}
