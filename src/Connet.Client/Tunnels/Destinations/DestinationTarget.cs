using Microsoft.Extensions.Logging;

namespace Connet.Client.Tunnels.Destinations;

/// <summary>
/// What a destination endpoint connects tunnels to. Dialing returns the stream a tunnel is spliced onto; targets that
/// run a server of their own (HTTP reverse proxy, static files) start and stop it with the endpoint.
/// </summary>
internal interface IDestinationTarget : IAsyncDisposable
{
    ValueTask StartAsync(CancellationToken cancellationToken);

    ValueTask<Stream> DialAsync(CancellationToken cancellationToken);
}

/// <summary>Builds the target for a destination's URL scheme (connet-protocol.md §5 "Destination URL schemes").</summary>
internal static class DestinationTarget
{
    public const string Tcp = "tcp";
    public const string Tls = "tls";
    public const string Http = "http";
    public const string Https = "https";

    /// <summary>What an empty host in a destination URL (<c>tcp://:3000</c>) dials: this machine, as Go's dialer does.</summary>
    public const string LocalHost = "localhost";

    /// <summary>The schemes a destination URL may use, as named in errors.</summary>
    public static readonly IReadOnlyList<string> Schemes = [Tcp, Tls, Http, Https, TunnelUrl.FileScheme];

    /// <summary>The target for <paramref name="options"/> (already validated): nothing runs until <see cref="IDestinationTarget.StartAsync"/>.</summary>
    public static IDestinationTarget Create(string endpoint, ConnetEndpointOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        TunnelUrl url = TunnelUrl.Parse(options.Url);
        if (url.Host.Length == 0 && !url.IsFile)
        {
            url = url with { Host = LocalHost };
        }

        return url.Scheme switch
        {
            Tcp => new DialingTarget(TcpDestination.Dialer(options.Url, options.DialTimeout)),
            Tls => new DialingTarget(TlsDestination.Dialer(url, new TargetTls(url.Host, options), options.DialTimeout)),
            Http => HttpDestination.ReverseProxy(endpoint, url, tls: null, options.DialTimeout, loggerFactory),
            Https => HttpDestination.ReverseProxy(endpoint, url, new TargetTls(url.Host, options), options.DialTimeout, loggerFactory),
            TunnelUrl.FileScheme => HttpDestination.Files(endpoint, RootFolder(url), loggerFactory),
            _ => throw new FormatException($"'{options.Url}': a destination URL scheme must be one of {string.Join(", ", Schemes)}."),
        };
    }

    /// <summary>The folder a <c>file:</c> URL serves: relative paths are taken from the process's current directory.</summary>
    public static string RootFolder(TunnelUrl url) => Path.GetFullPath(url.Path, Environment.CurrentDirectory);

    /// <summary>A target that is only a dial function (tcp, tls): nothing to start or stop.</summary>
    private sealed class DialingTarget(Func<CancellationToken, ValueTask<Stream>> dial) : IDestinationTarget
    {
        public ValueTask StartAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<Stream> DialAsync(CancellationToken cancellationToken) => dial(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
