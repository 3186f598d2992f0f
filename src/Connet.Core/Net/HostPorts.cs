using System.Globalization;
using System.Net;

namespace Connet.Core.Net;

/// <summary><c>host:port</c> text as connet's configuration writes it (IPv6 hosts in brackets).</summary>
public static class HostPorts
{
    public static bool TryParse(string? hostPort, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        if (string.IsNullOrWhiteSpace(hostPort))
        {
            return false;
        }

        int colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is 0 or > IPEndPoint.MaxPort)
        {
            return false;
        }

        host = hostPort[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            // An IPv6 literal must be bracketed, else its last group reads as the port.
            return false;
        }

        return host.Length > 0 && !host.Any(char.IsWhiteSpace);
    }
}
