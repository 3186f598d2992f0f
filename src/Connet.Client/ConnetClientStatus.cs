using System.Net;

namespace Connet.Client;

/// <summary>Where the client stands with the control server.</summary>
public enum ConnetClientState
{
    NotStarted,
    Connecting,
    Connected,

    /// <summary>The control connection was lost (or could not be made); retrying with backoff.</summary>
    Reconnecting,

    /// <summary>The control server refused the token; terminal until restarted with other options.</summary>
    AuthenticationFailed,
    Stopped,
}

public enum ConnetEndpointRole
{
    Destination,
    Source,
}

/// <summary>How a path to a peer runs: a direct connection (and who dialed it) or a relay.</summary>
public enum ConnetPeerConnectionDirection
{
    /// <summary>We dialed the remote peer.</summary>
    Outgoing,

    /// <summary>The remote peer dialed us.</summary>
    Incoming,

    /// <summary>Through a relay both sides are connected to (Go connet's "relay" style).</summary>
    Relay,
}

/// <summary>A point-in-time view of a <see cref="ConnetClient"/>.</summary>
/// <param name="DirectAddress">The bound UDP socket (control, and peers in both directions).</param>
/// <param name="PublicAddress">The socket's address as the control server sees it, once authenticated.</param>
/// <param name="LastError">Why the last control connection attempt failed, if it did.</param>
/// <param name="NatPmp">The NAT-PMP mapping of the direct port; null when <see cref="ConnetClientOptions.NatPmp"/> is disabled.</param>
public sealed record ConnetClientStatus(
    ConnetClientState State,
    IPEndPoint? DirectAddress,
    IPEndPoint? PublicAddress,
    IReadOnlyList<IPEndPoint> AdvertisedAddresses,
    IReadOnlyList<ConnetEndpointStatus> Endpoints,
    string? LastError,
    ConnetNatPmpStatus? NatPmp = null);

/// <param name="Gateway">The gateway asked (port 5351), once one was found.</param>
/// <param name="ExternalAddress">The direct port as mapped by the gateway (advertised to peers); null while unmapped.</param>
/// <param name="LifetimeLeft">How long the gateway keeps the mapping unless renewed (renewal is at half-life).</param>
/// <param name="LastError">Why the last attempt failed (no gateway, no answer, a refusal), if it did.</param>
public sealed record ConnetNatPmpStatus(IPEndPoint? Gateway, IPEndPoint? ExternalAddress, TimeSpan? LifetimeLeft, string? LastError);

/// <param name="SourceAddress">Where a source listens for TCP connections (the bound port when the URL asked for 0).</param>
/// <param name="Peers">The remote peers control announced, with their live direct connections and shared relays.</param>
/// <param name="Relays">The relays control offered this endpoint (none on a direct route).</param>
/// <param name="Refusal">Why control refused this endpoint (e.g. its token may not use this name or role), if it did.</param>
public sealed record ConnetEndpointStatus(
    string Name,
    ConnetEndpointRole Role,
    IPEndPoint? SourceAddress,
    IReadOnlyList<ConnetPeerStatus> Peers,
    IReadOnlyList<ConnetRelayStatus> Relays,
    string? Refusal = null);

/// <param name="Id">The id control gave the relay.</param>
/// <param name="Addresses">Its <c>host:port</c>s as offered, dialed in this order.</param>
/// <param name="ConnectedAddress">The address of the live connection; null while not connected.</param>
/// <param name="LastError">Why the last connection attempt failed or the last connection ended, if it did.</param>
public sealed record ConnetRelayStatus(string Id, string Metadata, IReadOnlyList<string> Addresses, IPEndPoint? ConnectedAddress, string? LastError)
{
    public bool Connected => ConnectedAddress is not null;
}

/// <param name="Id">The id control assigned to the remote peer.</param>
public sealed record ConnetPeerStatus(string Id, string Metadata, IReadOnlyList<ConnetPeerConnectionStatus> Connections);

/// <param name="RemoteAddress">The peer's address (direct) or the relay's (relay).</param>
/// <param name="RelayId">The relay's id on relay paths.</param>
public sealed record ConnetPeerConnectionStatus(ConnetPeerConnectionDirection Direction, IPEndPoint RemoteAddress, string? RelayId = null)
{
    /// <summary>
    /// Whether <see cref="RemoteAddress"/> is a local-network address (the peer's LAN address: both sides behind the
    /// same NAT, or no NAT) or a public one (a NAT mapping: what control observed, or a NAT-PMP mapping).
    /// </summary>
    public ConnetAddressScope RemoteScope => ConnetAddressScopes.Of(RemoteAddress.Address);
}

/// <summary>Where an address lives, as far as reaching it goes.</summary>
public enum ConnetAddressScope
{
    /// <summary>Loopback, private (RFC 1918), IPv6 unique-local or link-local: reachable only inside a site.</summary>
    Local,

    /// <summary>Anything else: a public address, typically a NAT's mapping.</summary>
    Public,
}

/// <summary>Classifies addresses into <see cref="ConnetAddressScope"/>.</summary>
public static class ConnetAddressScopes
{
    public static ConnetAddressScope Of(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return ConnetAddressScope.Local;
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            byte[] bytes = address.GetAddressBytes();
            bool local = bytes[0] == 10
                || (bytes[0] == 172 && (bytes[1] & 0xF0) == 16)
                || (bytes[0] == 192 && bytes[1] == 168)
                || (bytes[0] == 169 && bytes[1] == 254);
            return local ? ConnetAddressScope.Local : ConnetAddressScope.Public;
        }

        return address.IsIPv6LinkLocal || address.IsIPv6UniqueLocal ? ConnetAddressScope.Local : ConnetAddressScope.Public;
    }
}
