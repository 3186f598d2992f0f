using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Client.Tunnels;
using Connet.Client.Tunnels.Destinations;
using Connet.Client.Tunnels.Sources;
using Connet.Core.Net;
using Connet.Core.Protocol;
using Connet.Quic;

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

/// <summary>The PROXY protocol header a destination asks sources to put in front of each tunnelled connection.</summary>
public enum ConnetProxyProtocol
{
    None,

    /// <summary>The human-readable v1 header (<c>PROXY TCP4 ...\r\n</c>).</summary>
    V1,

    /// <summary>The binary v2 header.</summary>
    V2,
}

/// <summary>Whether and how the client asks its gateway to map the direct port with NAT-PMP (Go connet's <c>nat-pmp</c>).</summary>
public enum ConnetNatPmp
{
    /// <summary>No NAT-PMP.</summary>
    Disabled,

    /// <summary>The gateway of the default IPv4 route (/proc/net/route), when the local address towards it is private.</summary>
    System,

    /// <summary>The local address used to reach control (a connected UDP socket), gateway assumed at x.y.z.1, when private.</summary>
    Dial,
}

/// <summary>How a source picks among the destination peers of its endpoint (Go connet's <c>lb-policy</c>).</summary>
public enum ConnetLoadBalancePolicy
{
    /// <summary>No policy: every path is tried in order, direct before relay.</summary>
    None,

    LeastLatency,

    LeastConnections,

    RoundRobin,

    Random,
}

/// <summary>When a source tries another destination after one failed (Go connet's <c>lb-retry</c>).</summary>
public enum ConnetLoadBalanceRetry
{
    Never,

    /// <summary>Up to <see cref="ConnetEndpointOptions.LoadBalanceRetryMax"/> further attempts (default 2).</summary>
    Count,

    /// <summary>Further attempts for up to <see cref="ConnetEndpointOptions.LoadBalanceRetryMax"/> milliseconds (default 1000).</summary>
    Timed,

    /// <summary>Every destination once.</summary>
    All,
}

/// <summary>One destination or source endpoint.</summary>
public sealed class ConnetEndpointOptions
{
    /// <summary>
    /// Destinations: the target to dial or serve (<c>tcp://</c>, <c>tls://</c>, <c>http(s)://host:port/path</c>,
    /// <c>file:</c>). Sources: the address to listen on (<c>tcp://</c>, <c>tls://</c>, <c>http(s)://</c>,
    /// <c>ws(s)://</c>). Which schemes are accepted is checked by validation.
    /// </summary>
    public string Url { get; set; } = string.Empty;

    public ConnetRoute Route { get; set; } = ConnetRoute.Any;

    /// <summary>The relay encryptions this endpoint accepts; null uses <see cref="ConnetClientOptions.RelayEncryptions"/>.</summary>
    public List<ConnetRelayEncryption>? RelayEncryptions { get; set; }

    /// <summary>
    /// Destinations: how long dialing the target may take. Sources: how long opening one tunnel to a destination may
    /// take. <see cref="TimeSpan.Zero"/> waits as long as the connection attempt itself does.
    /// </summary>
    public TimeSpan DialTimeout { get; set; }

    /// <summary>Destinations only: the PROXY header sources write before the tunnelled bytes.</summary>
    public ConnetProxyProtocol ProxyProtocol { get; set; }

    /// <summary>
    /// Destinations with a <c>tls://</c> or <c>https://</c> target: the certificates trusted for it (empty: the system
    /// store). Sources with a <c>tls://</c>, <c>https://</c> or <c>wss://</c> listener: the client certificates
    /// required from callers (mutual TLS; empty: no client certificate asked for).
    /// </summary>
    public X509Certificate2Collection CertificateAuthorities { get; set; } = [];

    /// <summary>Destinations only: accept any certificate from a TLS target (Go connet's <c>cas-file = "insecure-skip-verify"</c>).</summary>
    public bool InsecureSkipVerify { get; set; }

    /// <summary>
    /// Destinations: the client certificate (with its key) presented to a TLS target. Sources: the server certificate
    /// of a <c>tls://</c>, <c>https://</c> or <c>wss://</c> listener.
    /// </summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Sources only.</summary>
    public ConnetLoadBalancePolicy LoadBalancePolicy { get; set; }

    /// <summary>Sources only.</summary>
    public ConnetLoadBalanceRetry LoadBalanceRetry { get; set; }

    /// <summary>Sources only: the count (<see cref="ConnetLoadBalanceRetry.Count"/>) or milliseconds (<see cref="ConnetLoadBalanceRetry.Timed"/>); 0 uses the default.</summary>
    public int LoadBalanceRetryMax { get; set; }
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

    /// <summary>
    /// How long a QUIC handshake (to control, relays and peers) may go without progress before it is given up (Go
    /// connet's <c>handshake-idle-timeout</c>); raise it for high-latency paths.
    /// </summary>
    public TimeSpan HandshakeIdleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The 32-byte key stateless resets of the direct socket are derived from (Go connet's
    /// <c>direct-stateless-reset-key</c>). Keeping it across restarts lets peers of a restarted client learn at once that
    /// their old connections are gone; null uses a random key per start.
    /// </summary>
    public byte[]? StatelessResetKey { get; set; }

    /// <summary>Free text the control server shows for this client and passes to its peers.</summary>
    public string Metadata { get; set; } = string.Empty;

    /// <summary>
    /// NAT-PMP mapping of the direct port, whose external address is advertised to peers. Disabled by default here
    /// (Go connet defaults to system): a library should not talk to the network's gateway unasked.
    /// </summary>
    public ConnetNatPmp NatPmp { get; set; } = ConnetNatPmp.Disabled;

    /// <summary>Tests: the NAT-PMP gateway to use instead of finding one (any port, no private-address check).</summary>
    internal IPEndPoint? NatPmpGatewayOverride { get; set; }

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

        if (!HostPorts.TryParse(ServerAddress, out _, out _))
        {
            errors.Add($"ServerAddress '{ServerAddress}' is not host:port.");
        }

        if (DirectAddress is null)
        {
            errors.Add("DirectAddress is required.");
        }

        if (HandshakeIdleTimeout <= TimeSpan.Zero)
        {
            errors.Add($"HandshakeIdleTimeout must be positive, not {HandshakeIdleTimeout}.");
        }

        if (!Enum.IsDefined(NatPmp))
        {
            errors.Add($"NatPmp '{NatPmp}' is not Disabled, System or Dial.");
        }

        if (StatelessResetKey is not null && StatelessResetKey.Length != QuicEndpointOptions.StatelessResetKeyLength)
        {
            errors.Add($"StatelessResetKey must be {QuicEndpointOptions.StatelessResetKeyLength} bytes, not {StatelessResetKey.Length}.");
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
        foreach (var (name, destination) in Destinations ?? [])
        {
            if (destination is not null)
            {
                ValidateDestination(destination, $"Destinations[{name}]", errors);
            }
        }

        foreach (var (name, source) in Sources ?? [])
        {
            if (source is not null)
            {
                ValidateSource(source, $"Sources[{name}]", errors);
            }
        }

        return errors;
    }

    /// <summary>The relay encryptions <paramref name="endpoint"/> uses: its own list, else the client's.</summary>
    internal IReadOnlyList<ConnetRelayEncryption> EffectiveRelayEncryptions(ConnetEndpointOptions endpoint) =>
        endpoint.RelayEncryptions ?? RelayEncryptions;

    internal (string Host, int Port) ParseServerAddress() =>
        HostPorts.TryParse(ServerAddress, out var host, out var port) ? (host, port) : throw new FormatException($"ServerAddress '{ServerAddress}' is not host:port.");

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

            if (endpoint.DialTimeout < TimeSpan.Zero)
            {
                errors.Add($"{section}[{name}].DialTimeout must not be negative.");
            }

            if (endpoint.CertificateAuthorities is null)
            {
                errors.Add($"{section}[{name}].CertificateAuthorities must not be null (leave it empty).");
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

    /// <summary>What only a destination's settings must satisfy (its URL scheme and target options).</summary>
    private static void ValidateDestination(ConnetEndpointOptions destination, string setting, List<string> errors)
    {
        const string DestinationUrlShapes = "tcp://host:port, tls://host:port, http://host:port[/path], https://host:port[/path], file:./relative or file:///absolute";
        TunnelUrl? url = null;
        try
        {
            url = TunnelUrl.Parse(destination.Url ?? string.Empty);
        }
        catch (FormatException exception)
        {
            errors.Add($"{setting}.Url: {exception.Message} A destination takes {DestinationUrlShapes}.");
        }

        bool targetUsesTls = false;
        if (url is not null)
        {
            switch (url.Scheme)
            {
                case DestinationTarget.Tcp or DestinationTarget.Tls or DestinationTarget.Http or DestinationTarget.Https:
                    targetUsesTls = url.Scheme is DestinationTarget.Tls or DestinationTarget.Https;
                    if (url.Path.Length > 0 && url.Scheme is DestinationTarget.Tcp or DestinationTarget.Tls)
                    {
                        errors.Add($"{setting}.Url: '{destination.Url}' has a path; only http:// and https:// targets take one.");
                    }

                    break;
                case TunnelUrl.FileScheme:
                    string folder = DestinationTarget.RootFolder(url);
                    if (!Directory.Exists(folder))
                    {
                        errors.Add($"{setting}.Url: the folder '{folder}' of '{destination.Url}' does not exist.");
                    }

                    break;
                default:
                    errors.Add($"{setting}.Url: '{destination.Url}' has the unknown scheme '{url.Scheme}'; a destination takes {DestinationUrlShapes}.");
                    break;
            }
        }

        if (url is not null && !targetUsesTls)
        {
            if (destination.InsecureSkipVerify)
            {
                errors.Add($"{setting}.InsecureSkipVerify applies only to tls:// and https:// targets, not '{destination.Url}'.");
            }

            if (destination.CertificateAuthorities is { Count: > 0 })
            {
                errors.Add($"{setting}.CertificateAuthorities apply only to tls:// and https:// targets, not '{destination.Url}'.");
            }

            if (destination.Certificate is not null)
            {
                errors.Add($"{setting}.Certificate (a client certificate for mutual TLS) applies only to tls:// and https:// targets, not '{destination.Url}'.");
            }
        }

        if (destination.InsecureSkipVerify && destination.CertificateAuthorities is { Count: > 0 })
        {
            errors.Add($"{setting}: set either InsecureSkipVerify or CertificateAuthorities, not both.");
        }

        if (destination.Certificate is { HasPrivateKey: false })
        {
            errors.Add($"{setting}.Certificate has no private key; a client certificate for mutual TLS needs one.");
        }

        if (!Enum.IsDefined(destination.ProxyProtocol))
        {
            errors.Add($"{setting}.ProxyProtocol: {destination.ProxyProtocol} is not a PROXY protocol version.");
        }
        else if (destination.ProxyProtocol != ConnetProxyProtocol.None && url is not null && url.Scheme is not ("tcp" or "tls"))
        {
            // The header would reach the in-process HTTP server as the start of a request.
            errors.Add($"{setting}.ProxyProtocol applies only to tcp:// and tls:// targets, not '{destination.Url}'.");
        }
    }

    /// <summary>What only a source's settings must satisfy (its URL scheme, listener and load-balancing options).</summary>
    private static void ValidateSource(ConnetEndpointOptions source, string setting, List<string> errors)
    {
        SourceUrl? url = null;
        try
        {
            url = SourceUrl.Parse(source.Url ?? string.Empty);
        }
        catch (FormatException exception)
        {
            errors.Add($"{setting}.Url: {exception.Message}");
        }

        if (url is { UsesTls: true })
        {
            if (source.Certificate is null)
            {
                errors.Add($"{setting}.Certificate is required: a {url.Scheme.ToString().ToLowerInvariant()}:// source is a TLS server and needs its certificate.");
            }
            else if (!source.Certificate.HasPrivateKey)
            {
                errors.Add($"{setting}.Certificate has no private key; a TLS server needs it.");
            }
        }
        else if (url is not null && (source.Certificate is not null || source.CertificateAuthorities is { Count: > 0 }))
        {
            errors.Add($"{setting}: Certificate and CertificateAuthorities apply to tls://, https:// and wss:// sources only, not {url.Scheme.ToString().ToLowerInvariant()}://.");
        }

        if (source.ProxyProtocol != ConnetProxyProtocol.None)
        {
            errors.Add($"{setting}.ProxyProtocol is a destination setting; the source writes whatever header the destination asks for.");
        }

        if (source.InsecureSkipVerify)
        {
            errors.Add($"{setting}.InsecureSkipVerify is a destination setting (for its TLS target).");
        }

        if (!Enum.IsDefined(source.LoadBalancePolicy))
        {
            errors.Add($"{setting}.LoadBalancePolicy: {source.LoadBalancePolicy} is not a load-balancing policy.");
        }

        if (!Enum.IsDefined(source.LoadBalanceRetry))
        {
            errors.Add($"{setting}.LoadBalanceRetry: {source.LoadBalanceRetry} is not a retry mode.");
        }

        if (source.LoadBalanceRetryMax < 0)
        {
            errors.Add($"{setting}.LoadBalanceRetryMax must not be negative (0 uses the default: 2 attempts for Count, 1000 ms for Timed).");
        }
        else if (source.LoadBalanceRetryMax > 0 && source.LoadBalanceRetry is not (ConnetLoadBalanceRetry.Count or ConnetLoadBalanceRetry.Timed))
        {
            errors.Add($"{setting}.LoadBalanceRetryMax applies only when LoadBalanceRetry is Count or Timed.");
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
}
