using System.Net.Security;
using System.Text;

namespace Connet.Core.Protocol;

/// <summary>The four kinds of QUIC connection connet makes; each has its own ALPN table and default port.</summary>
public enum ConnetConnectionKind
{
    /// <summary>A client to the control server.</summary>
    ClientToControl,

    /// <summary>A relay server to the control server.</summary>
    RelayToControl,

    /// <summary>A client to a relay server.</summary>
    ClientToRelay,

    /// <summary>A direct connection between two peers (source and destination clients).</summary>
    PeerToPeer,
}

/// <summary>One ALPN protocol name and the wire version it implies.</summary>
public sealed record ConnetAlpn(string Name, WireVersion WireVersion)
{
    // Computed, not stored, so a `with { Name = … }` copy cannot carry a stale protocol.
    public SslApplicationProtocol ApplicationProtocol => new(Name);

    public override string ToString() => Name;
}

/// <summary>
/// connet's ALPN names per connection kind. Both sides offer the new ALPN (4-byte prefix) first and
/// fall back to the legacy one (8-byte prefix) spoken by Go connet ≤ 0.15.3. A name alone does not
/// identify the wire version: <c>connet-relay/0.3</c> is the new client→relay ALPN but also the
/// legacy relay→control one, so every lookup takes the connection kind.
/// </summary>
public static class ConnetAlpns
{
    public const string ClientToControl = "connet-control/0.4";
    public const string ClientToControlLegacy = "connet-client/0.3";
    public const string RelayToControl = "connet-control-relays/0.4";
    public const string RelayToControlLegacy = "connet-relay/0.3";
    public const string ClientToRelay = "connet-relay/0.3";
    public const string ClientToRelayLegacy = "connet-peer-relay/0.2";
    public const string PeerToPeer = "connet-peer/0.2";
    public const string PeerToPeerLegacy = "connet-peer/0.1";

    public const int DefaultControlClientsPort = 19190;
    public const int DefaultControlRelaysPort = 19189;
    public const int DefaultRelayPort = 19191;
    public const int DefaultDirectPort = 19192;

    private static readonly IReadOnlyList<ConnetAlpn> ClientToControlOffer =
        [new(ClientToControl, WireVersion.Current), new(ClientToControlLegacy, WireVersion.Legacy)];

    private static readonly IReadOnlyList<ConnetAlpn> RelayToControlOffer =
        [new(RelayToControl, WireVersion.Current), new(RelayToControlLegacy, WireVersion.Legacy)];

    private static readonly IReadOnlyList<ConnetAlpn> ClientToRelayOffer =
        [new(ClientToRelay, WireVersion.Current), new(ClientToRelayLegacy, WireVersion.Legacy)];

    private static readonly IReadOnlyList<ConnetAlpn> PeerToPeerOffer =
        [new(PeerToPeer, WireVersion.Current), new(PeerToPeerLegacy, WireVersion.Legacy)];

    /// <summary>The ALPNs of <paramref name="kind"/> in preference order: new first, then legacy.</summary>
    public static IReadOnlyList<ConnetAlpn> For(ConnetConnectionKind kind) => kind switch
    {
        ConnetConnectionKind.ClientToControl => ClientToControlOffer,
        ConnetConnectionKind.RelayToControl => RelayToControlOffer,
        ConnetConnectionKind.ClientToRelay => ClientToRelayOffer,
        ConnetConnectionKind.PeerToPeer => PeerToPeerOffer,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown connet connection kind."),
    };

    /// <summary>The list to put in client or server options' <c>ApplicationProtocols</c>, in preference order.</summary>
    public static List<SslApplicationProtocol> ApplicationProtocols(ConnetConnectionKind kind) =>
        [.. For(kind).Select(alpn => alpn.ApplicationProtocol)];

    /// <summary>The default UDP port the server side of <paramref name="kind"/> listens on.</summary>
    public static int DefaultPort(ConnetConnectionKind kind) => kind switch
    {
        ConnetConnectionKind.ClientToControl => DefaultControlClientsPort,
        ConnetConnectionKind.RelayToControl => DefaultControlRelaysPort,
        ConnetConnectionKind.ClientToRelay => DefaultRelayPort,
        ConnetConnectionKind.PeerToPeer => DefaultDirectPort,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown connet connection kind."),
    };

    /// <summary>The wire version of a negotiated ALPN on a connection of <paramref name="kind"/>; false if it is not one of that kind's.</summary>
    public static bool TryGetWireVersion(ConnetConnectionKind kind, ReadOnlySpan<byte> negotiated, out WireVersion version)
    {
        foreach (var alpn in For(kind))
        {
            if (negotiated.SequenceEqual(alpn.ApplicationProtocol.Protocol.Span))
            {
                version = alpn.WireVersion;
                return true;
            }
        }

        version = default;
        return false;
    }

    /// <summary>The wire version of a negotiated ALPN on a connection of <paramref name="kind"/>.</summary>
    /// <exception cref="ConnetProtocolException">The ALPN is not one of <paramref name="kind"/>'s.</exception>
    public static WireVersion GetWireVersion(ConnetConnectionKind kind, SslApplicationProtocol negotiated)
    {
        if (TryGetWireVersion(kind, negotiated.Protocol.Span, out var version))
        {
            return version;
        }

        throw new ConnetProtocolException(ConnetErrorCode.Unknown,
            $"negotiated ALPN \"{Encoding.UTF8.GetString(negotiated.Protocol.Span)}\" is not a connet {kind} protocol");
    }
}
