using System.Collections.ObjectModel;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Connet.Core.Restrictions;

/// <summary>
/// Allow and deny CIDR lists, as connet's <c>allow-cidrs</c> and <c>deny-cidrs</c>: an address is
/// refused if any deny entry contains it; otherwise allowed if any allow entry contains it; and when
/// nothing matched, allowed only if the allow list is empty. IPv4-mapped IPv6 addresses are unmapped
/// first, so <c>::ffff:10.1.2.3</c> is checked as <c>10.1.2.3</c>.
/// </summary>
public sealed class IPRestriction
{
    public IPRestriction(IEnumerable<IPNetwork> allows, IEnumerable<IPNetwork> denies)
    {
        ArgumentNullException.ThrowIfNull(allows);
        ArgumentNullException.ThrowIfNull(denies);
        Allows = new ReadOnlyCollection<IPNetwork>([.. allows]);
        Denies = new ReadOnlyCollection<IPNetwork>([.. denies]);
    }

    /// <summary>No entries: every address is allowed.</summary>
    public static IPRestriction AllowAll { get; } = new([], []);

    public IReadOnlyList<IPNetwork> Allows { get; }

    public IReadOnlyList<IPNetwork> Denies { get; }

    public bool IsEmpty => Allows.Count == 0 && Denies.Count == 0;

    /// <summary>Parses CIDR lists such as <c>10.0.0.0/8</c> and <c>2001:db8::/32</c>; null lists count as empty.</summary>
    /// <exception cref="FormatException">An entry is not a CIDR; the message names the entry and the list.</exception>
    public static IPRestriction Parse(IEnumerable<string>? allowCidrs, IEnumerable<string>? denyCidrs) =>
        new(ParseList(allowCidrs, "allow"), ParseList(denyCidrs, "deny"));

    /// <summary>
    /// Parses one CIDR as Go's <c>netip.ParsePrefix</c> does: an address in canonical text (dotted quad for
    /// IPv4, no zone), a slash and a decimal prefix length. Host bits may be set; they are masked off.
    /// </summary>
    /// <exception cref="FormatException">The text is not a CIDR; the message names it and says why.</exception>
    public static IPNetwork ParseCidr(string cidr)
    {
        ArgumentNullException.ThrowIfNull(cidr);
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            throw InvalidCidr(cidr, "it has no '/' and prefix length");
        }

        var addressText = cidr[..slash];
        var prefixText = cidr[(slash + 1)..];
        if (addressText.Contains('%', StringComparison.Ordinal))
        {
            throw InvalidCidr(cidr, "an IPv6 zone is not allowed in a CIDR");
        }

        if (!IPAddress.TryParse(addressText, out var address) || !IsStrictAddressText(addressText, address))
        {
            throw InvalidCidr(cidr, $"\"{addressText}\" is not an IP address");
        }

        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (!IsStrictDecimal(prefixText)
            || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out var prefixLength)
            || prefixLength > maxPrefix)
        {
            throw InvalidCidr(cidr, $"the prefix length must be a whole number from 0 to {maxPrefix}");
        }

        return new IPNetwork(MaskHostBits(address, prefixLength), prefixLength);
    }

    /// <summary>Whether <paramref name="address"/> passes the deny and allow lists.</summary>
    public bool IsAllowed(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = Normalize(address);
        foreach (var deny in Denies)
        {
            if (deny.Contains(address))
            {
                return false;
            }
        }

        foreach (var allow in Allows)
        {
            if (allow.Contains(address))
            {
                return true;
            }
        }

        return Allows.Count == 0;
    }

    /// <summary>Whether the address of <paramref name="endPoint"/> is allowed; endpoints without an IP address are refused.</summary>
    public bool IsAllowed(EndPoint endPoint) =>
        endPoint is IPEndPoint ipEndPoint && IsAllowed(ipEndPoint.Address);

    private static List<IPNetwork> ParseList(IEnumerable<string>? cidrs, string listName)
    {
        var networks = new List<IPNetwork>();
        foreach (var cidr in cidrs ?? [])
        {
            try
            {
                networks.Add(ParseCidr(cidr));
            }
            catch (FormatException invalid)
            {
                throw new FormatException($"Invalid {listName} CIDR: {invalid.Message}", invalid);
            }
        }

        return networks;
    }

    private static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        // Go never matches a zoned address against a prefix, which would let a link-local peer slip
        // past a deny entry; we drop the zone instead so deny entries still apply.
        return address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0
            ? new IPAddress(address.GetAddressBytes())
            : address;
    }

    // IPAddress.TryParse also takes inet_aton forms ("10", "10.1", "0x0a.0.0.1") that Go rejects.
    private static bool IsStrictAddressText(string text, IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6
            ? !text.Contains('[', StringComparison.Ordinal)
            : string.Equals(address.ToString(), text, StringComparison.Ordinal);

    // Go takes no sign, whitespace or leading zero in the prefix length.
    private static bool IsStrictDecimal(string text) =>
        text.Length is > 0 and <= 3
        && text.All(char.IsAsciiDigit)
        && (text.Length == 1 || text[0] != '0');

    private static IPAddress MaskHostBits(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = prefixLength; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPAddress(bytes);
    }

    private static FormatException InvalidCidr(string cidr, string reason) =>
        new($"\"{cidr}\" is not a valid CIDR: {reason}.");
}
