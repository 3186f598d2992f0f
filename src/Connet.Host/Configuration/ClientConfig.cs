using System.Net;
using System.Security.Cryptography;
using Connet.Client;

namespace Connet.Host.Configuration;

/// <summary>The <c>[client]</c> section mapped onto <see cref="ConnetClientOptions"/>, plus what the host itself serves.</summary>
internal sealed class ClientSettings
{
    public const int StatelessResetKeyLength = 32;

    public ConnetClientOptions Options { get; } = new();

    /// <summary>Where the status HTTP server listens; null: no status server.</summary>
    public IPEndPoint? StatusAddress { get; set; }

    /// <summary>No <c>nat-pmp</c> key: Go connet would use <c>system</c>; we run without NAT-PMP unless asked.</summary>
    public bool NatPmpDefaulted { get; set; }

    /// <summary>The literal <c>direct-stateless-reset-key</c>, decoded.</summary>
    public byte[]? StatelessResetKey { get; set; }

    /// <summary>The file holding the reset key (created when missing): the configured one, else one in the cache directory.</summary>
    public string? StatelessResetKeyFile { get; set; }

    /// <summary>
    /// The stateless reset key: the literal, else read from (or generated into) <see cref="StatelessResetKeyFile"/>.
    /// The file holds the raw 32 bytes, as Go connet writes it; a base32hex text file is read too.
    /// </summary>
    public byte[] ResolveStatelessResetKey()
    {
        if (StatelessResetKey is not null)
        {
            return StatelessResetKey;
        }

        string file = StatelessResetKeyFile ?? throw new InvalidOperationException("No stateless reset key file.");
        if (File.Exists(file))
        {
            byte[] content = File.ReadAllBytes(file);
            if (content.Length == StatelessResetKeyLength)
            {
                return content;
            }

            byte[]? decoded = GoFormats.DecodeBase32Hex(System.Text.Encoding.ASCII.GetString(content).Trim());
            return decoded?.Length == StatelessResetKeyLength
                ? decoded
                : throw new ConfigException([$"{file}: a stateless reset key file must hold {StatelessResetKeyLength} bytes (raw or base32hex)"]);
        }

        // Written aside and moved into place, so two clients starting together (both on port 0 share the file name)
        // never read a half-written key: the second move fails and the first client's key is read instead.
        byte[] key = RandomNumberGenerator.GetBytes(StatelessResetKeyLength);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        string pending = $"{file}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(pending, key);
        try
        {
            File.Move(pending, file, overwrite: false);
            return key;
        }
        catch (IOException) when (File.Exists(file))
        {
            File.Delete(pending);
            return ResolveStatelessResetKey();
        }
    }
}

/// <summary>Reads <c>[client]</c> (connet-protocol.md §4; the Go README's client.toml specification).</summary>
internal static class ClientConfig
{
    public static readonly string[] Routes = ["any", "direct", "relay"];

    public static readonly string[] RelayEncryptions = ["none", "tls", "dhxcp"];

    public static readonly string[] NatPmpModes = ["system", "dial", "disabled"];

    public static readonly string[] ProxyProtocolVersions = ["", "v1", "v2"];

    /// <summary>Go connet's names; "none" is accepted too, as an explicit spelling of the default.</summary>
    public static readonly string[] LoadBalancePolicies = ["", "none", "least-latency", "least-conns", "round-robin", "random"];

    public static readonly string[] LoadBalanceRetries = ["", "never", "count", "timed", "all"];

    /// <summary>The literal <c>cas-file</c> of a destination that turns verification of its TLS target off.</summary>
    public const string InsecureSkipVerify = "insecure-skip-verify";

    /// <summary>As for the relay: a handshake that makes no progress for longer is not coming.</summary>
    public static readonly TimeSpan MaxHandshakeIdleTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Keeps dial timers within what timers take, and far beyond any useful wait.</summary>
    public static readonly TimeSpan MaxDialTimeout = TimeSpan.FromHours(1);

    /// <summary>A bound on <c>lb-retry-max</c> (attempts, or milliseconds for <c>timed</c>: one hour).</summary>
    public const int MaxLoadBalanceRetryMax = 3_600_000;

    public static ClientSettings Read(SectionReader client, ConfigContext context)
    {
        var settings = new ClientSettings();
        var options = settings.Options;

        options.Token = ReadToken(client, "token", "token-file", context) ?? string.Empty;
        options.Metadata = client.String("metadata") ?? string.Empty;
        options.ServerAddress = client.HostPort("server-addr") ?? ConnetClientOptions.DefaultServerAddress;
        if (client.CertificateBundle("server-cas-file") is { } authorities)
        {
            options.ServerCertificateAuthorities = authorities;
        }

        options.ServerName = client.String("server-name") is { Length: > 0 } serverName ? serverName : null;
        options.DirectAddress = client.ListenAddress("direct-addr") ?? options.DirectAddress;
        ReadStatelessResetKey(client, settings, context);
        settings.StatusAddress = client.ListenAddress("status-addr");

        // Go connet's default is "system"; ours is "disabled" so that nothing talks to a router unless asked (an
        // absent key runs without NAT-PMP and says so at start).
        switch (client.Choice("nat-pmp", NatPmpModes))
        {
            case "system":
                options.NatPmp = ConnetNatPmp.System;
                break;
            case "dial":
                options.NatPmp = ConnetNatPmp.Dial;
                break;
            case null when !client.Has("nat-pmp"):
                settings.NatPmpDefaulted = true;
                break;
        }

        var handshakeIdleTimeout = client.Duration("handshake-idle-timeout") ?? TimeSpan.Zero;
        if (handshakeIdleTimeout > MaxHandshakeIdleTimeout)
        {
            client.Error("handshake-idle-timeout", "must be at most 5m");
        }
        else if (handshakeIdleTimeout > TimeSpan.Zero)
        {
            // Zero keeps the library default (5s), as Go connet treats an unset duration.
            options.HandshakeIdleTimeout = handshakeIdleTimeout;
        }

        options.RelayEncryptions = ReadEncryptions(client, "relay-encryptions") ?? options.RelayEncryptions;

        foreach (var (name, reader) in client.NamedTables("destinations"))
        {
            options.Destinations[name] = ReadEndpoint(reader, name, isDestination: true);
        }

        foreach (var (name, reader) in client.NamedTables("sources"))
        {
            options.Sources[name] = ReadEndpoint(reader, name, isDestination: false);
        }

        client.Complete();

        if (string.IsNullOrWhiteSpace(options.Token) && !client.HasErrors)
        {
            client.SectionError("a token is required: set 'token', 'token-file' or the CONNET_TOKEN environment variable");
        }

        if (!client.HasErrors)
        {
            // Endpoint errors were reported at their keys by ReadEndpoint; the rest belong to [client] as a whole.
            foreach (var error in options.Validate().Where(error => !error.StartsWith("Token", StringComparison.Ordinal)
                && !error.StartsWith("Destinations[", StringComparison.Ordinal) && !error.StartsWith("Sources[", StringComparison.Ordinal)))
            {
                client.SectionError(error);
            }
        }

        return settings;
    }

    /// <summary>A token from <paramref name="fileKey"/> (first line), else <paramref name="key"/>, else <c>$CONNET_TOKEN</c>.</summary>
    public static string? ReadToken(SectionReader reader, string key, string fileKey, ConfigContext context)
    {
        string? file = reader.String(fileKey);
        string? literal = reader.String(key);
        if (!string.IsNullOrEmpty(file))
        {
            return reader.FirstLineOfFile(fileKey, file);
        }

        return !string.IsNullOrEmpty(literal) ? literal : context.Env("CONNET_TOKEN");
    }

    private static void ReadStatelessResetKey(SectionReader client, ClientSettings settings, ConfigContext context)
    {
        string? literal = client.String("direct-stateless-reset-key");
        string? file = client.String("direct-stateless-reset-key-file");
        if (!string.IsNullOrEmpty(literal))
        {
            byte[]? key = GoFormats.DecodeBase32Hex(literal);
            if (key?.Length != ClientSettings.StatelessResetKeyLength)
            {
                client.Error("direct-stateless-reset-key", $"must be {ClientSettings.StatelessResetKeyLength} bytes in base32hex (the seed `connet gen-key` prints)");
            }
            else
            {
                settings.StatelessResetKey = key;
            }

            return;
        }

        if (!string.IsNullOrEmpty(file))
        {
            settings.StatelessResetKeyFile = file;
            return;
        }

        string address = settings.Options.DirectAddress.ToString().Replace("0.0.0.0", string.Empty, StringComparison.Ordinal);
        string safeName = new([.. address.Select(character => char.IsAsciiLetterOrDigit(character) || character == '.' ? character : '-')]);
        settings.StatelessResetKeyFile = Path.Combine(context.CacheDirectory(), $"stateless-reset-{safeName.Trim('-')}.key");
    }

    private static List<ConnetRelayEncryption>? ReadEncryptions(SectionReader reader, string key)
    {
        var names = reader.StringList(key);
        if (names is null)
        {
            return null;
        }

        var encryptions = new List<ConnetRelayEncryption>();
        foreach (var name in names)
        {
            switch (name)
            {
                case "none": encryptions.Add(ConnetRelayEncryption.None); break;
                case "tls": encryptions.Add(ConnetRelayEncryption.Tls); break;
                case "dhxcp": encryptions.Add(ConnetRelayEncryption.Dhxcp); break;
                default:
                    reader.Error(key, $"'{name}' is not one of {string.Join(", ", RelayEncryptions)}");
                    return null;
            }
        }

        if (encryptions.Count == 0)
        {
            reader.Error(key, $"must list at least one of {string.Join(", ", RelayEncryptions)}");
            return null;
        }

        if (encryptions.Distinct().Count() != encryptions.Count)
        {
            reader.Error(key, "lists an encryption more than once");
            return null;
        }

        return encryptions;
    }

    private static ConnetEndpointOptions ReadEndpoint(SectionReader reader, string name, bool isDestination)
    {
        var endpoint = new ConnetEndpointOptions();
        endpoint.Route = reader.Choice("route", Routes) switch
        {
            "direct" => ConnetRoute.Direct,
            "relay" => ConnetRoute.Relay,
            _ => ConnetRoute.Any,
        };
        endpoint.RelayEncryptions = ReadEncryptions(reader, "relay-encryptions");
        string? url = reader.String("url");
        if (string.IsNullOrEmpty(url))
        {
            reader.SectionError("'url' is required");
        }
        else
        {
            endpoint.Url = url;
        }

        // Zero (the default) waits as long as the connection attempt itself does.
        endpoint.DialTimeout = reader.Duration("dial-timeout") ?? TimeSpan.Zero;
        if (endpoint.DialTimeout > MaxDialTimeout)
        {
            reader.Error("dial-timeout", "must be at most 1h");
        }

        endpoint.Certificate = reader.CertificateWithKey("cert-file", "key-file");
        if (isDestination && reader.String("cas-file") == InsecureSkipVerify)
        {
            endpoint.InsecureSkipVerify = true;
        }
        else if (reader.CertificateBundle("cas-file") is { } authorities)
        {
            endpoint.CertificateAuthorities = authorities;
        }

        if (isDestination)
        {
            endpoint.ProxyProtocol = reader.Choice("proxy-proto-version", ProxyProtocolVersions) switch
            {
                "v1" => ConnetProxyProtocol.V1,
                "v2" => ConnetProxyProtocol.V2,
                _ => ConnetProxyProtocol.None,
            };
        }
        else
        {
            endpoint.LoadBalancePolicy = reader.Choice("lb-policy", LoadBalancePolicies) switch
            {
                "least-latency" => ConnetLoadBalancePolicy.LeastLatency,
                "least-conns" => ConnetLoadBalancePolicy.LeastConnections,
                "round-robin" => ConnetLoadBalancePolicy.RoundRobin,
                "random" => ConnetLoadBalancePolicy.Random,
                _ => ConnetLoadBalancePolicy.None,
            };
            endpoint.LoadBalanceRetry = reader.Choice("lb-retry", LoadBalanceRetries) switch
            {
                "count" => ConnetLoadBalanceRetry.Count,
                "timed" => ConnetLoadBalanceRetry.Timed,
                "all" => ConnetLoadBalanceRetry.All,
                _ => ConnetLoadBalanceRetry.Never,
            };
            endpoint.LoadBalanceRetryMax = (int)(reader.Integer("lb-retry-max", 0, MaxLoadBalanceRetryMax) ?? 0);
        }

        reader.Complete();
        if (!reader.HasErrors)
        {
            ReportLibraryErrors(reader, name, endpoint, isDestination);
        }

        return endpoint;
    }

    /// <summary>
    /// The library's own checks of one endpoint (URL shapes and schemes, which options fit which scheme), reported at the
    /// key they concern, so there is one set of rules and the user still gets file, line and key.
    /// </summary>
    private static void ReportLibraryErrors(SectionReader reader, string name, ConnetEndpointOptions endpoint, bool isDestination)
    {
        var probe = new ConnetClientOptions { Token = "probe" };
        (isDestination ? probe.Destinations : probe.Sources)[name] = endpoint;
        string prefix = $"{(isDestination ? "Destinations" : "Sources")}[{name}]";
        foreach (var error in probe.Validate().Where(error => error.StartsWith(prefix, StringComparison.Ordinal)))
        {
            string rest = error[prefix.Length..];
            string? key = KeyOf(rest, isDestination);

            // ".Url: 'x' has no valid port." reads as "'url' 'x' has no valid port."; other shapes keep the option's name.
            int colon = rest.IndexOf(": ", StringComparison.Ordinal);
            bool aboutValue = rest.StartsWith('.') && colon > 0 && !rest[..colon].Contains(' ', StringComparison.Ordinal);
            string message = aboutValue ? rest[(colon + 2)..] : rest.TrimStart('.', ':', ' ');
            if (key is not null && reader.Has(key))
            {
                reader.Error(key, aboutValue ? message : $"is refused: {message}");
            }
            else if (key is not null)
            {
                // The URL asks for an option that is missing (a TLS source without its certificate).
                reader.Error("url", $"needs {(key == "cert-file" ? "'cert-file' and 'key-file'" : $"'{key}'")}: {message}");
            }
            else
            {
                reader.SectionError(message);
            }
        }
    }

    /// <summary>The configuration key a library error about <c>.Property...</c> concerns; null for the endpoint as a whole.</summary>
    private static string? KeyOf(string error, bool isDestination) => error switch
    {
        _ when error.StartsWith(".Url", StringComparison.Ordinal) => "url",
        _ when error.StartsWith(".DialTimeout", StringComparison.Ordinal) => "dial-timeout",
        _ when error.StartsWith(".ProxyProtocol", StringComparison.Ordinal) => isDestination ? "proxy-proto-version" : null,
        _ when error.StartsWith(".InsecureSkipVerify", StringComparison.Ordinal) => "cas-file",
        _ when error.StartsWith(".CertificateAuthorities", StringComparison.Ordinal) => "cas-file",
        _ when error.StartsWith(".Certificate", StringComparison.Ordinal) => "cert-file",
        _ when error.StartsWith(".LoadBalanceRetryMax", StringComparison.Ordinal) => "lb-retry-max",
        _ when error.StartsWith(": Certificate", StringComparison.Ordinal) => "cert-file",
        _ => null,
    };
}
