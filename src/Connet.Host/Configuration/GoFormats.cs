using System.Globalization;
using System.Net;

namespace Connet.Host.Configuration;

/// <summary>Values written as Go connet writes them: durations ("1m30s"), listen addresses (":19192"), base32hex keys.</summary>
internal static class GoFormats
{
    private const string Base32HexAlphabet = "0123456789abcdefghijklmnopqrstuv";

    /// <summary>A Go duration: an optional sign, then one or more decimal numbers each with a unit (ns, us, µs, ms, s, m, h); "0" alone is zero.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }

        if (text == "0")
        {
            return true;
        }

        decimal totalNanoseconds = 0;
        int index = 0;
        bool negative = false;
        if (text[0] is '-' or '+')
        {
            negative = text[0] == '-';
            index++;
        }

        if (index == text.Length)
        {
            return false;
        }

        while (index < text.Length)
        {
            int start = index;
            while (index < text.Length && (char.IsAsciiDigit(text[index]) || text[index] == '.'))
            {
                index++;
            }

            if (!decimal.TryParse(text.AsSpan(start, index - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
            {
                return false;
            }

            int unitStart = index;
            while (index < text.Length && !char.IsAsciiDigit(text[index]) && text[index] != '.')
            {
                index++;
            }

            decimal? nanosecondsPerUnit = text[unitStart..index] switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => null,
            };
            if (nanosecondsPerUnit is not decimal unit)
            {
                return false;
            }

            totalNanoseconds += number * unit;
            if (totalNanoseconds > (decimal)TimeSpan.MaxValue.Ticks * 100)
            {
                return false;
            }
        }

        long ticks = (long)(totalNanoseconds / 100);
        duration = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }

    /// <summary>
    /// A listen address: <c>:port</c> (all IPv4 interfaces, as the library defaults), <c>ip:port</c>,
    /// <c>[ipv6]:port</c> or <c>localhost:port</c>. Port 0 picks a free port.
    /// </summary>
    public static bool TryParseListenAddress(string text, out IPEndPoint endPoint, out string problem)
    {
        endPoint = new IPEndPoint(IPAddress.Any, 0);
        problem = string.Empty;
        int colon = text.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > IPEndPoint.MaxPort)
        {
            problem = $"'{text}' is not [host]:port";
            return false;
        }

        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            problem = $"'{text}' is not [host]:port (an IPv6 address goes in brackets)";
            return false;
        }

        IPAddress address;
        if (host.Length == 0)
        {
            address = IPAddress.Any;
        }
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host, out address!))
        {
            problem = $"'{text}': a listen address needs an IP address or localhost, not '{host}'";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        return true;
    }

    /// <summary>A dial address <c>host:port</c> (host required, port 1-65535; IPv6 in brackets), as the libraries parse it.</summary>
    public static bool IsHostPort(string text) => Connet.Core.Net.HostPorts.TryParse(text, out _, out _);

    /// <summary>Lowercase RFC 4648 base32hex without padding (Go's <c>base32.HexEncoding.WithPadding(NoPadding)</c>, lowercased).</summary>
    public static string EncodeBase32Hex(ReadOnlySpan<byte> data)
    {
        var builder = new System.Text.StringBuilder(((data.Length * 8) + 4) / 5);
        int accumulator = 0;
        int bits = 0;
        foreach (byte value in data)
        {
            accumulator = (accumulator << 8) | value;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                builder.Append(Base32HexAlphabet[(accumulator >> bits) & 31]);
            }
        }

        if (bits > 0)
        {
            builder.Append(Base32HexAlphabet[(accumulator << (5 - bits)) & 31]);
        }

        return builder.ToString();
    }

    /// <summary>Decodes base32hex (either case, no padding); null when a character is outside the alphabet.</summary>
    public static byte[]? DecodeBase32Hex(string text)
    {
        var output = new List<byte>((text.Length * 5) / 8);
        int accumulator = 0;
        int bits = 0;
        foreach (char character in text)
        {
            int value = Base32HexAlphabet.IndexOf(char.ToLowerInvariant(character), StringComparison.Ordinal);
            if (value < 0)
            {
                return null;
            }

            accumulator = ((accumulator << 5) | value) & 0xFFFF;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                output.Add((byte)(accumulator >> bits));
            }
        }

        return [.. output];
    }
}
