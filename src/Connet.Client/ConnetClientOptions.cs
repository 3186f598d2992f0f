using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Client.Tunnels;
using Connet.Core.Protocol;

namespace Connet.Client;

/// <summary>How an endpoint may reach its peers (connet-protocol.md §1 "Endpoint").</summary>
public enum ConnetRoute
{
    /// <summary>Direct connections first, relays when no direct connection is up.</summary>
    Any,

    /// <summary>Direct peer-to-peer QUIC connections only.</summary>
    Direct,

    /// <summary>Through relay servers only: no direct addresses are announced, dialed or accepted.</summary>
    Relay,
}

/// <summary>
/// How a tunnel through a relay is protected end to end (connet-protocol.md §2.6); the destination picks tls if both
/// sides list it, else dhxcp, else none. Direct connections are TLS already and never use these.
/// </summary>
public enum ConnetRelayEncryption
{
    /// <summary>Plain bytes: the relay can read them.</summary>
    None,

    /// <summary>A TLS 1.3 session inside the relayed stream, with the pinned peer certificates.</summary>
    Tls,

    /// <summary>X25519 key agreement signed with the peer certificates, then ChaCha20-Poly1305 records.</summary>
    Dhxcp,
}

/// <summary>One destination or source endpoint.</summary>
public sealed class ConnetEndpointOptions
{
    /// <summary>A <c>tcp://host:port</c> URL: the target a destination dials, or the address a source listens on.</summary>
    public string Url { get; set; } = string.Empty;

    public ConnetRoute Route { get; set; } = ConnetRoute.Any;

    /// <summary>The relay encryptions this endpoint accepts; null uses <see cref="ConnetClientOptions.RelayEncryptions"/>.</summary>
    public List<ConnetRelayEncryption>? RelayEncryptions { get; set; }
}

/// <summary>Settings of a <see cref="ConnetClient"/> (the <c>[client]</c> section of Go connet's configuration).</summary>
public sealed class ConnetClientOptions
{
    public const string DefaultServerAddress = "127.0.0.1:19190";

    /// <summary>The client token the control server authenticates.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>The control server's <c>host:port</c>.</summary>
    public string ServerAddress { get; set; } = DefaultServerAddress;

    /// <summary>The name the control server's certificate must carry (and the SNI); defaults to the host of <see cref="ServerAddress"/>.</summary>
    public string? ServerName { get; set; }

    /// <summary>
    /// Certificates trusted for the control server: a presented certificate equal to one of them is accepted (pinning),
    /// otherwise its chain must end in one of them. Empty: the system trust store.
    /// </summary>
    public X509Certificate2Collection ServerCertificateAuthorities { get; set; } = [];

    /// <summary>The one UDP socket used for control, accepting and dialing peers.</summary>
    public IPEndPoint DirectAddress { get; set; } = new(IPAddress.Any, ConnetAlpns.DefaultDirectPort);

    /// <summary>Free text the control server shows for this client and passes to its peers.</summary>
    public string Metadata { get; set; } = string.Empty;

    /// <summary>The relay encryptions of every endpoint that does not set its own (Go connet's default: none only).</summary>
    public List<ConnetRelayEncryption> RelayEncryptions { get; set; } = [ConnetRelayEncryption.None];

    public Dictionary<string, ConnetEndpointOptions> Destinations { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, ConnetEndpointOptions> Sources { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Every problem with these options (empty when valid), so a misconfiguration is reported in one go.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Token))
        {
            errors.Add("Token is required.");
        }

        if (!TryParseHostPort(ServerAddress, out _, out _))
        {
            errors.Add($"ServerAddress '{ServerAddress}' is not host:port.");
        }

        if (DirectAddress is null)
        {
            errors.Add("DirectAddress is required.");
        }

        if (ServerCertificateAuthorities is null)
        {
            errors.Add("ServerCertificateAuthorities must not be null (leave it empty for the system trust store).");
        }

        if ((Destinations?.Count ?? 0) + (Sources?.Count ?? 0) == 0)
        {
            errors.Add("At least one destination or source is required.");
        }

        ValidateEncryptions(RelayEncryptions, "RelayEncryptions", errors);
        ValidateEndpoints(Destinations, "Destinations", errors);
        ValidateEndpoints(Sources, "Sources", errors);
        return errors;
    }

    /// <summary>The relay encryptions <paramref name="endpoint"/> uses: its own list, else the client's.</summary>
    internal IReadOnlyList<ConnetRelayEncryption> EffectiveRelayEncryptions(ConnetEndpointOptions endpoint) =>
        endpoint.RelayEncryptions ?? RelayEncryptions;

    internal (string Host, int Port) ParseServerAddress() =>
        TryParseHostPort(ServerAddress, out var host, out var port) ? (host, port) : throw new FormatException($"ServerAddress '{ServerAddress}' is not host:port.");

    internal string EffectiveServerName => string.IsNullOrEmpty(ServerName) ? ParseServerAddress().Host : ServerName;

    private static void ValidateEndpoints(Dictionary<string, ConnetEndpointOptions>? endpoints, string section, List<string> errors)
    {
        if (endpoints is null)
        {
            errors.Add($"{section} must not be null.");
            return;
        }

        foreach (var (name, endpoint) in endpoints)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add($"{section} has an endpoint without a name.");
            }

            if (endpoint is null)
            {
                errors.Add($"{section}[{name}] is null.");
                continue;
            }

            try
            {
                TcpUrl.Parse(endpoint.Url ?? string.Empty);
            }
            catch (FormatException exception)
            {
                errors.Add($"{section}[{name}].Url: {exception.Message} Only tcp://host:port is supported.");
            }

            if (!Enum.IsDefined(endpoint.Route))
            {
                errors.Add($"{section}[{name}].Route: {endpoint.Route} is not a route.");
            }

            if (endpoint.RelayEncryptions is not null)
            {
                ValidateEncryptions(endpoint.RelayEncryptions, $"{section}[{name}].RelayEncryptions", errors);
            }
        }
    }

    private static void ValidateEncryptions(List<ConnetRelayEncryption>? encryptions, string setting, List<string> errors)
    {
        if (encryptions is null || encryptions.Count == 0)
        {
            errors.Add($"{setting} must list at least one of None, Tls, Dhxcp.");
            return;
        }

        foreach (var undefined in encryptions.Where(encryption => !Enum.IsDefined(encryption)).Distinct())
        {
            errors.Add($"{setting}: {undefined} is not a relay encryption.");
        }

        foreach (var duplicate in encryptions.GroupBy(encryption => encryption).Where(group => group.Count() > 1))
        {
            errors.Add($"{setting} lists {duplicate.Key} more than once.");
        }
    }

    private static bool TryParseHostPort(string? hostPort, out string host, out int port)
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

        return host.Length > 0;
    }
}
