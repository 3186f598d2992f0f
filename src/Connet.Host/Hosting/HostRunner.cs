using System.Net;
using Connet.Host.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Connet.Host.Hosting;

/// <summary>Runs one command as a Generic Host: logging, the services, Ctrl+C / SIGTERM, and the exit code.</summary>
internal static partial class HostRunner
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitBadConfiguration = 2;

    /// <summary>How long services get to stop after Ctrl+C or SIGTERM.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Builds a host with <paramref name="configure"/>'s services, runs it until Ctrl+C, SIGTERM,
    /// <paramref name="runFor"/> or <paramref name="cancellationToken"/>, and maps failures to exit codes.
    /// </summary>
    public static async Task<int> RunAsync(
        RootSettings root,
        IReadOnlyList<string> warnings,
        Action<IServiceCollection> configure,
        TextWriter stderr,
        TimeSpan? runFor = null,
        Func<IServiceProvider, Task>? started = null,
        CancellationToken cancellationToken = default)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        ConfigureLogging(builder.Logging, root);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownTimeout);
        builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
        configure(builder.Services);

        var host = builder.Build();
        await using var disposeHost = (IAsyncDisposable)host;
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("connet");
        foreach (var warning in warnings)
        {
            Log.ConfigurationWarning(logger, warning);
        }

        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException exception)
        {
            foreach (var failure in exception.Failures)
            {
                await stderr.WriteLineAsync(failure).ConfigureAwait(false);
            }

            return ExitBadConfiguration;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.StartFailed(logger, exception.Message, exception);
            await stderr.WriteLineAsync($"connet: {exception.Message}").ConfigureAwait(false);
            await StopQuietlyAsync(host).ConfigureAwait(false);
            return ExitFailure;
        }
        catch (OperationCanceledException)
        {
            await StopQuietlyAsync(host).ConfigureAwait(false);
            return ExitOk;
        }

        if (started is not null)
        {
            await started(host.Services).ConfigureAwait(false);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (runFor is { } duration)
        {
            stop.CancelAfter(duration);
        }

        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        using var registration = stop.Token.Register(lifetime.StopApplication);
        await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        return ExitOk;
    }

    public static void ConfigureLogging(ILoggingBuilder logging, RootSettings root)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(root.LogLevel);

        // The hosting infrastructure's own chatter is not what an operator is looking for.
        logging.AddFilter("Microsoft", LogLevel.Warning);

        // Everything to stderr, as Go connet's slog does: stdout stays for command output.
        logging.AddConsole(options =>
        {
            options.LogToStandardErrorThreshold = LogLevel.Trace;
            options.FormatterName = root.JsonLogs ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple;
        });
        if (root.JsonLogs)
        {
            logging.AddJsonConsole(options =>
            {
                options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                options.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "HH:mm:ss.fff ";
                options.UseUtcTimestamp = true;
            });
        }
    }

    /// <summary>A free UDP port on <paramref name="address"/> right now (the OS may hand it out again later).</summary>
    public static int FreeUdpPort(IPAddress address)
    {
        using var socket = new System.Net.Sockets.Socket(address.AddressFamily, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A free TCP port on <paramref name="address"/> right now.</summary>
    public static int FreeTcpPort(IPAddress address)
    {
        var listener = new System.Net.Sockets.TcpListener(address, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task StopQuietlyAsync(IHost host)
    {
        using var timeout = new CancellationTokenSource(ShutdownTimeout);
        try
        {
            await host.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Stopping after a failed start is best effort; the start failure is what gets reported.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Warning}", EventName = "ConfigurationWarning")]
        public static partial void ConfigurationWarning(ILogger logger, string warning);

        [LoggerMessage(2, LogLevel.Error, "Start failed: {Reason}", EventName = "StartFailed")]
        public static partial void StartFailed(ILogger logger, string reason, Exception exception);
    }
}
