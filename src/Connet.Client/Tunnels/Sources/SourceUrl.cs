using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Connet.Client.Tunnels.Sources;

/// <summary>What a source listens with.</summary>
internal enum SourceScheme
{
    Tcp,
    Tls,
    Http,
    Https,
    Ws,
    Wss,
}

/// <summary>
/// A source listener URL: <c>tcp://</c> and <c>tls://host:port</c>, or <c>http(s)://</c> and <c>ws(s)://host:port/path</c>.
/// An empty host listens on every address; the path (HTTP and WebSocket only) is the prefix requests must be under.
/// </summary>
internal sealed record SourceUrl(SourceScheme Scheme, string Host, int Port, string Path)
{
    /// <summary>Whether the listener is TLS (and so needs a certificate).</summary>
    public bool UsesTls => Scheme is SourceScheme.Tls or SourceScheme.Https or SourceScheme.Wss;

    /// <summary>Whether Kestrel serves it (HTTP or WebSocket), as opposed to a raw TCP listener.</summary>
    public bool IsHttp => Scheme is SourceScheme.Http or SourceScheme.Https or SourceScheme.Ws or SourceScheme.Wss;

    /// <exception cref="FormatException">Not one of the source schemes, no valid port, or a path where none is allowed.</exception>
    public static SourceUrl Parse(string url)
    {
        TunnelUrl parsed = TunnelUrl.Parse(url);
        SourceScheme scheme = parsed.Scheme switch
        {
            "tcp" => SourceScheme.Tcp,
            "tls" => SourceScheme.Tls,
            "http" => SourceScheme.Http,
            "https" => SourceScheme.Https,
            "ws" => SourceScheme.Ws,
            "wss" => SourceScheme.Wss,
            _ => throw new FormatException($"'{url}' is not a source URL (tcp://, tls://, http://, https://, ws:// or wss://)."),
        };
        if (parsed.Path.Length > 0 && scheme is SourceScheme.Tcp or SourceScheme.Tls)
        {
            throw new FormatException($"'{url}' has a path, which only http(s):// and ws(s):// sources take.");
        }

        return new SourceUrl(scheme, parsed.Host, parsed.Port, parsed.Path);
    }

    /// <summary>The address to listen on: every address (dual mode) for an empty host, the literal, or the host's first DNS answer.</summary>
    public async ValueTask<IPAddress> ResolveAsync(CancellationToken cancellationToken)
    {
        if (Host.Length == 0)
        {
            return IPAddress.IPv6Any;
        }

        if (IPAddress.TryParse(Host, out var literal))
        {
            return literal;
        }

        IPAddress[] resolved = await Dns.GetHostAddressesAsync(Host, cancellationToken).ConfigureAwait(false);
        return resolved.Length > 0 ? resolved[0] : throw new SocketException((int)SocketError.HostNotFound);
    }
}
