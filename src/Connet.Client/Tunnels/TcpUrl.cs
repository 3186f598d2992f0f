using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Connet.Client.Tunnels;

/// <summary>A <c>tcp://host:port</c> URL of a source listener or destination target (an empty host means all addresses).</summary>
internal sealed record TcpUrl(string Host, int Port)
{
    private const string Scheme = "tcp://";

    public static TcpUrl Parse(string url)
    {
        TunnelUrl parsed = TunnelUrl.Parse(url);
        if (parsed.Scheme != "tcp")
        {
            throw new FormatException($"'{url}' is not a tcp:// URL.");
        }

        if (parsed.Path.Length > 0)
        {
            throw new FormatException($"'{url}' has a path, which a tcp:// URL does not take.");
        }

        return new TcpUrl(parsed.Host, parsed.Port);
    }

    /// <summary>The addresses to try, in order: the literal address, or the host's DNS answers.</summary>
    public async ValueTask<IPAddress[]> ResolveAsync(CancellationToken cancellationToken)
    {
        if (Host.Length == 0)
        {
            return [IPAddress.IPv6Any];
        }

        if (IPAddress.TryParse(Host, out var literal))
        {
            return [literal];
        }

        IPAddress[] resolved = await Dns.GetHostAddressesAsync(Host, cancellationToken).ConfigureAwait(false);
        return resolved.Length > 0 ? resolved : throw new SocketException((int)SocketError.HostNotFound);
    }

    public override string ToString() => $"{Scheme}{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}";
}
