using System.Globalization;
using System.Net;

namespace Connet.Client.Tunnels;

/// <summary>
/// An endpoint URL of any scheme: <c>scheme://host:port[/path]</c> (tcp, tls, http, https, ws, wss) or
/// <c>file:./relative</c> / <c>file:///absolute</c>. Which schemes a role accepts is the caller's business.
/// </summary>
internal sealed record TunnelUrl(string Scheme, string Host, int Port, string Path)
{
    public const string FileScheme = "file";

    /// <summary>Longer than any sane URL; bounds what a misconfiguration can make us carry around.</summary>
    private const int MaxLength = 4096;

    /// <summary>Whether this is a <c>file:</c> URL, whose <see cref="Path"/> is a folder of the local file system.</summary>
    public bool IsFile => Scheme == FileScheme;

    /// <summary>The <c>host:port</c> part as written in a URL (IPv6 literals bracketed).</summary>
    public string Authority => $"{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}";

    /// <summary>Parses <paramref name="url"/>; the scheme is lower-cased, a path is kept without its trailing slash.</summary>
    /// <exception cref="FormatException">Not a URL of that shape; the message says what is wrong.</exception>
    public static TunnelUrl Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.Length > MaxLength)
        {
            throw new FormatException($"the URL is longer than {MaxLength} characters.");
        }

        int colon = url.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !url.AsSpan(0, colon).ContainsOnlySchemeCharacters())
        {
            throw new FormatException($"'{url}' has no scheme (expected scheme://host:port or file:path).");
        }

        string scheme = url[..colon].ToLowerInvariant();
        string rest = url[(colon + 1)..];
        if (scheme == FileScheme)
        {
            return new TunnelUrl(scheme, string.Empty, 0, ParseFilePath(url, rest));
        }

        if (!rest.StartsWith("//", StringComparison.Ordinal))
        {
            throw new FormatException($"'{url}' is not {scheme}://host:port.");
        }

        rest = rest[2..];
        if (rest.IndexOfAny(['?', '#']) >= 0)
        {
            throw new FormatException($"'{url}' must not have a query or fragment.");
        }

        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string hostPort = slash < 0 ? rest : rest[..slash];
        string path = slash < 0 ? string.Empty : rest[slash..].TrimEnd('/');
        int portColon = hostPort.LastIndexOf(':');
        if (portColon < 0 || hostPort.EndsWith(']')
            || !int.TryParse(hostPort.AsSpan(portColon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port > IPEndPoint.MaxPort)
        {
            throw new FormatException($"'{url}' has no valid port.");
        }

        string host = hostPort[..portColon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return new TunnelUrl(scheme, host, port, path);
    }

    public override string ToString() => IsFile ? $"{FileScheme}:{Path}" : $"{Scheme}://{Authority}{Path}";

    private static string ParseFilePath(string url, string rest)
    {
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            // file://host/path: only the local host makes sense for a folder we serve.
            string afterSlashes = rest[2..];
            int slash = afterSlashes.IndexOf('/', StringComparison.Ordinal);
            string host = slash < 0 ? afterSlashes : afterSlashes[..slash];
            if (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException($"'{url}' names host '{host}'; a file: URL must be file:./relative or file:///absolute.");
            }

            rest = slash < 0 ? string.Empty : afterSlashes[slash..];
        }

        if (rest.Length == 0)
        {
            throw new FormatException($"'{url}' names no folder.");
        }

        return Uri.UnescapeDataString(rest);
    }
}

file static class SchemeCharacters
{
    /// <summary>RFC 3986 scheme: a letter, then letters, digits, '+', '-', '.'.</summary>
    public static bool ContainsOnlySchemeCharacters(this ReadOnlySpan<char> scheme)
    {
        if (!char.IsAsciiLetter(scheme[0]))
        {
            return false;
        }

        foreach (char c in scheme)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
