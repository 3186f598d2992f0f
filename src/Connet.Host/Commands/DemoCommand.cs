using System.CommandLine;
using System.Net;
using Connet.Client;
using Connet.Host.Configuration;
using Connet.Host.Hosting;
using Connet.Server.Control;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Connet.Host.Commands;

/// <summary>
/// <c>connet demo</c>: a control server, a TCP "hello" service, a destination client and a source client, all on
/// 127.0.0.1 in this process with no setup, so one command shows a connection going through connet.
/// </summary>
internal static class DemoCommand
{
    public const string EndpointName = "demo";

    /// <summary>How long the demo waits for the source to reach the destination before saying it is ready anyway.</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    public static Command Create(CommonOptions common, TextWriter stdout, TextWriter stderr)
    {
        var seconds = new Option<int?>("--seconds") { Description = "stop by itself after this many seconds (default: run until Ctrl+C)" };
        var command = new Command("demo", "Run control, a hello/echo service and two clients on 127.0.0.1, and print how to connect");
        command.Options.Add(seconds);
        command.SetAction(async (parse, cancellationToken) =>
        {
            int? runSeconds = parse.GetValue(seconds);
            if (runSeconds is <= 0 or > 86_400)
            {
                throw new ConfigException(["command line (--seconds): must be between 1 and 86400"]);
            }

            var (_, root, errors) = ConnetCli.LoadConfig(parse, common, common.RootOverlay(parse));
            errors.ThrowIfAny();
            root.LogLevel = parse.GetValue(common.LogLevel) is null ? LogLevel.Warning : root.LogLevel;
            return await RunAsync(root, stdout, stderr, runSeconds is int limit ? TimeSpan.FromSeconds(limit) : null, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(RootSettings root, TextWriter stdout, TextWriter stderr, TimeSpan? runFor, CancellationToken cancellationToken)
    {
        using var certificate = SelfSignedCertificates.CreateLocalhost();
        var loopback = IPAddress.Loopback;
        int controlPort = HostRunner.FreeUdpPort(loopback);
        var service = new HelloService(new IPEndPoint(loopback, 0));
        var control = new ControlServerOptions
        {
            ClientIngresses = [new ControlClientIngress { Address = new IPEndPoint(loopback, controlPort), Certificate = certificate }],
            Tokens = [new ControlClientToken { Token = "demo-destination" }, new ControlClientToken { Token = "demo-source" }],
            EndpointExpiry = TimeSpan.Zero,
        };

        ConnetClientOptions Client(string token) => new()
        {
            Token = token,
            ServerAddress = $"127.0.0.1:{controlPort}",
            ServerName = "localhost",
            ServerCertificateAuthorities = [certificate],
            DirectAddress = new IPEndPoint(loopback, 0),
        };

        ConnetClient? source = null;
        return await HostRunner.RunAsync(root, [], services =>
        {
            services.AddConnetControlServer(options => ServerCommands.CopyControl(control, options));
            services.AddHostedService(_ => service);
            services.AddHostedService(provider =>
            {
                var options = Client("demo-destination");

                // The service's port is known once it has started, which is before this client starts.
                options.Destinations[EndpointName] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0" };
                return new DeferredClient(options, service, provider.GetRequiredService<ILoggerFactory>());
            });
            services.AddHostedService(provider =>
            {
                var options = Client("demo-source");
                options.Sources[EndpointName] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0" };
                source = new ConnetClient(options, provider.GetRequiredService<ILoggerFactory>());
                return source;
            });
        }, stderr, runFor, started: async provider =>
        {
            // Ctrl+C while waiting must not wait out the readiness timeout.
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(
                cancellationToken, provider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            IPEndPoint? listening = await WaitUntilReadyAsync(source!, stopping.Token).ConfigureAwait(false);
            await stdout.WriteLineAsync($"connet demo: control server on udp 127.0.0.1:{controlPort}, hello/echo service on tcp {service.LocalEndPoint}").ConfigureAwait(false);
            await stdout.WriteLineAsync($"connet demo: destination '{EndpointName}' -> {service.LocalEndPoint}; source '{EndpointName}' listens on {listening}").ConfigureAwait(false);
            await stdout.WriteLineAsync($"connect to {listening}: `nc 127.0.0.1 {listening?.Port}` (it says hello, then echoes what you type)").ConfigureAwait(false);
            await stdout.WriteLineAsync(runFor is { } limit ? $"stopping in {limit.TotalSeconds:0} s" : "press Ctrl+C to stop").ConfigureAwait(false);
            await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The source's listening address once it has a path to the destination (or after <see cref="ReadyTimeout"/>).</summary>
    private static async Task<IPEndPoint?> WaitUntilReadyAsync(ConnetClient source, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadyTimeout);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        ConnetEndpointStatus? endpoint = null;
        try
        {
            do
            {
                endpoint = source.GetStatus().Endpoints.FirstOrDefault(status => status.Name == EndpointName);
                if (endpoint?.SourceAddress is not null && endpoint.Peers.Any(peer => peer.Connections.Count > 0))
                {
                    break;
                }
            }
            while (await timer.WaitForNextTickAsync(timeout.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Not connected in time: still print the address, the source keeps trying.
        }

        return endpoint?.SourceAddress;
    }

    /// <summary>The destination client, built when it starts so its URL can carry the hello service's bound port.</summary>
    private sealed class DeferredClient(ConnetClientOptions options, HelloService service, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
    {
        private ConnetClient? _client;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            options.Destinations[EndpointName].Url = $"tcp://127.0.0.1:{service.LocalEndPoint!.Port}";
            _client = new ConnetClient(options, loggerFactory);
            return _client.StartAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => _client?.StopAsync(cancellationToken) ?? Task.CompletedTask;

        public ValueTask DisposeAsync() => _client?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
