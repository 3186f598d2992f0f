using System.Globalization;
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

        byte[] key = RandomNumberGenerator.GetBytes(StatelessResetKeyLength);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        File.WriteAllBytes(file, key);
        return key;
    }
}

/// <summary>Reads <c>[client]</c> (connet-protocol.md §4; the Go README's client.toml specification).</summary>
internal static class ClientConfig
{
    public static readonly string[] Routes = ["any", "direct", "relay"];

    public static readonly string[] RelayEncryptions = ["none", "tls", "dhxcp"];

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

        // connet's default is "system"; the library has no NAT-PMP yet, so only an explicit "disabled" is accepted.
        if (client.Choice("nat-pmp", "system", "dial", "disabled") is "system" or "dial")
        {
            client.Error("nat-pmp", "is not supported yet (only \"disabled\")");
        }

        if (client.Has("handshake-idle-timeout") && client.Duration("handshake-idle-timeout") is not null)
        {
            client.Error("handshake-idle-timeout", "is not supported yet");
        }

        options.RelayEncryptions = ReadEncryptions(client, "relay-encryptions") ?? options.RelayEncryptions;

        foreach (var (name, reader) in client.NamedTables("destinations"))
        {
            options.Destinations[name] = ReadEndpoint(reader, isDestination: true);
        }

        foreach (var (name, reader) in client.NamedTables("sources"))
        {
            options.Sources[name] = ReadEndpoint(reader, isDestination: false);
        }

        client.Complete();

        if (string.IsNullOrWhiteSpace(options.Token) && !client.HasErrors)
        {
            client.SectionError("a token is required: set 'token', 'token-file' or the CONNET_TOKEN environment variable");
        }

        if (!client.HasErrors)
        {
            foreach (var error in options.Validate().Where(error => !error.StartsWith("Token", StringComparison.Ordinal)))
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
                client.Error("direct-stateless-reset-key", $"must be {ClientSettings.StatelessResetKeyLength} bytes in base32hex (as `connet gen-key` prints)");
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

    private static ConnetEndpointOptions ReadEndpoint(SectionReader reader, bool isDestination)
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
            ValidateUrl(reader, url, isDestination);
            endpoint.Url = url;
        }

        if (reader.Has("dial-timeout") && reader.Duration("dial-timeout") is { } dialTimeout && dialTimeout != TimeSpan.Zero)
        {
            reader.Error("dial-timeout", "is not supported yet");
        }

        // Certificates belong to tls/http(s)/ws(s) URLs, none of which is supported yet.
        reader.NotSupported("cert-file");
        reader.NotSupported("key-file");
        reader.NotSupported("cas-file");
        if (isDestination)
        {
            if (reader.Choice("proxy-proto-version", string.Empty, "v1", "v2") is "v1" or "v2")
            {
                reader.Error("proxy-proto-version", "is not supported yet");
            }
        }
        else
        {
            if (reader.Choice("lb-policy", string.Empty, "none", "least-latency", "least-conns", "round-robin", "random") is { Length: > 0 } and not "none")
            {
                reader.Error("lb-policy", "is not supported yet");
            }

            if (reader.Choice("lb-retry", string.Empty, "never", "count", "timed", "all") is { Length: > 0 })
            {
                reader.Error("lb-retry", "is not supported yet");
            }

            reader.NotSupported("lb-retry-max");
        }

        reader.Complete();
        return endpoint;
    }

    private static void ValidateUrl(SectionReader reader, string url, bool isDestination)
    {
        int schemeEnd = url.IndexOf(':', StringComparison.Ordinal);
        string scheme = schemeEnd > 0 ? url[..schemeEnd].ToLowerInvariant() : string.Empty;
        string[] known = isDestination ? ["tcp", "tls", "http", "https", "file"] : ["tcp", "tls", "http", "https", "ws", "wss"];
        if (scheme != "tcp")
        {
            reader.Error("url", known.Contains(scheme)
                ? $"scheme '{scheme}' is not supported yet (only tcp://)"
                : $"'{url}' is not a {string.Join("/", known)} URL");
            return;
        }

        string hostPort = url[(schemeEnd + 1)..];
        if (!hostPort.StartsWith("//", StringComparison.Ordinal))
        {
            reader.Error("url", $"'{url}' is not tcp://host:port");
            return;
        }

        hostPort = hostPort[2..].TrimEnd('/');
        int colon = hostPort.LastIndexOf(':');
        bool validPort = colon >= 0 && int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= IPEndPoint.MaxPort;
        if (!validPort || hostPort.Contains('/', StringComparison.Ordinal))
        {
            reader.Error("url", isDestination ? $"'{url}' is not tcp://host:port" : $"'{url}' is not tcp://[host]:port");
        }
    }
}
