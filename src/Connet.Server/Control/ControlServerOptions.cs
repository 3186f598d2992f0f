using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Protocol;

namespace Connet.Server.Control;

/// <summary>
/// Configuration of the control server (the <c>[control]</c> / <c>[server]</c> TOML keys that concern clients and
/// relays). Checked by <see cref="ControlServerOptionsValidator"/>, which reports every problem at once.
/// </summary>
public sealed class ControlServerOptions
{
    /// <summary>The UDP addresses clients connect to; at least one.</summary>
    public List<ControlClientIngress> ClientIngresses { get; set; } = [];

    /// <summary>The tokens clients may authenticate with, each with its optional restriction; at least one.</summary>
    public List<ControlClientToken> Tokens { get; set; } = [];

    /// <summary>
    /// The UDP addresses relays connect to (<c>[[relays-ingress]]</c>); empty runs the server without relays.
    /// </summary>
    public List<ControlRelayIngress> RelayIngresses { get; set; } = [];

    /// <summary>The tokens relays may authenticate with; at least one when there is a relay ingress.</summary>
    public List<ControlRelayToken> RelayTokens { get; set; } = [];

    /// <summary>
    /// How long a disconnected client's announcements stay visible to its peers (Go's
    /// <c>endpoint-expiry-timeout</c>); a reconnect with the reconnect token within it revives them.
    /// <see cref="TimeSpan.Zero"/> disables the grace period: announcements go as soon as the client does.
    /// </summary>
    public TimeSpan EndpointExpiry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where the server keeps its announcements, server ID and keys (one SQLite file, <c>control.db</c>), so
    /// reconnect tokens and announcements in their grace period survive a restart. Null keeps everything in memory.
    /// </summary>
    public string? StoreDirectory { get; set; }

    /// <summary>The clock for expiry; null uses the one registered in DI, else <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; set; }
}

/// <summary>One <c>[[clients-ingress]]</c>: where clients connect, with which certificate, from which addresses.</summary>
public sealed class ControlClientIngress
{
    /// <summary>The UDP address to listen on; defaults to all IPv4 interfaces on port 19190.</summary>
    public IPEndPoint Address { get; set; } = new(IPAddress.Any, ConnetAlpns.DefaultControlClientsPort);

    /// <summary>The server certificate, with its private key.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>CIDRs allowed to connect; empty allows every address not denied.</summary>
    public List<string> AllowCidrs { get; set; } = [];

    /// <summary>CIDRs refused before the QUIC handshake completes.</summary>
    public List<string> DenyCidrs { get; set; } = [];
}

/// <summary>A client token and what it may do.</summary>
public sealed class ControlClientToken
{
    public string Token { get; set; } = string.Empty;

    /// <summary>What this token is limited to; the default restricts nothing.</summary>
    public ControlTokenRestriction Restriction { get; set; } = new();
}

/// <summary>One <c>[[clients-token-restriction]]</c>.</summary>
public sealed class ControlTokenRestriction
{
    /// <summary>CIDRs the token may authenticate from; empty allows every address not denied.</summary>
    public List<string> AllowCidrs { get; set; } = [];

    public List<string> DenyCidrs { get; set; } = [];

    /// <summary>An unanchored regular expression endpoint names must match; empty allows all.</summary>
    public string? NameMatches { get; set; }

    /// <summary><c>source</c>, <c>destination</c>, or empty for both.</summary>
    public string? RoleMatches { get; set; }
}

/// <summary>One <c>[[relays-ingress]]</c>: where relays connect, with which certificate, from which addresses.</summary>
public sealed class ControlRelayIngress
{
    /// <summary>The UDP address to listen on; defaults to all IPv4 interfaces on port 19189.</summary>
    public IPEndPoint Address { get; set; } = new(IPAddress.Any, ConnetAlpns.DefaultControlRelaysPort);

    /// <summary>The server certificate, with its private key.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>CIDRs allowed to connect; empty allows every address not denied.</summary>
    public List<string> AllowCidrs { get; set; } = [];

    /// <summary>CIDRs refused before the QUIC handshake completes.</summary>
    public List<string> DenyCidrs { get; set; } = [];
}

/// <summary>A relay token (<c>relays-tokens</c>) with its <c>[[relays-token-restriction]]</c> CIDRs.</summary>
public sealed class ControlRelayToken
{
    public string Token { get; set; } = string.Empty;

    /// <summary>CIDRs the token may authenticate from; empty allows every address not denied.</summary>
    public List<string> AllowCidrs { get; set; } = [];

    public List<string> DenyCidrs { get; set; } = [];
}
