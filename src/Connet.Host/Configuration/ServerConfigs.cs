using System.Net;
using Connet.Core.Protocol;
using Connet.Core.Restrictions;
using Connet.Relay;
using Connet.Server.Control;

namespace Connet.Host.Configuration;

/// <summary>The <c>[control]</c> section mapped onto <see cref="ControlServerOptions"/>.</summary>
internal sealed class ControlSettings
{
    public ControlServerOptions Options { get; } = new();

    public IPEndPoint? StatusAddress { get; set; }
}

/// <summary>The <c>[relay]</c> section mapped onto <see cref="RelayServerOptions"/>.</summary>
internal sealed class RelaySettings
{
    public RelayServerOptions Options { get; } = new();

    public IPEndPoint? StatusAddress { get; set; }
}

/// <summary>
/// The <c>[server]</c> section: a control server and a relay in one process. The relay half is completed by the
/// host (loopback relay ingress on control, a generated certificate and token) when it starts.
/// </summary>
internal sealed class ServerSettings
{
    public ControlServerOptions Control { get; } = new();

    public RelayServerOptions Relay { get; } = new();

    public IPEndPoint? StatusAddress { get; set; }

    /// <summary>The state directory; control and relay keep theirs in its <c>control</c> and <c>relay</c> subdirectories.</summary>
    public string StoreDirectory { get; set; } = string.Empty;
}

/// <summary>Reads <c>[server]</c>, <c>[control]</c> and <c>[relay]</c> (connet-protocol.md §4).</summary>
internal static class ServerConfigs
{
    public static ControlSettings ReadControl(SectionReader control, ConfigContext context)
    {
        var settings = new ControlSettings();
        var options = settings.Options;
        options.Tokens = ReadClientTokens(control, "clients-tokens", "clients-tokens-file", "clients-token-restriction");
        options.EndpointExpiry = ReadExpiry(control);
        options.RelayTokens = ReadRelayTokens(control);
        options.ClientIngresses = [.. control.TableArray("clients-ingress").Select(ReadClientIngress)];
        options.RelayIngresses = [.. control.TableArray("relays-ingress").Select(ReadRelayIngressOfControl)];
        settings.StatusAddress = control.ListenAddress("status-addr");
        options.StoreDirectory = context.StateDirectory(control.String("store-dir"), "control");
        control.Complete();

        if (options.ClientIngresses.Count == 0 && !control.HasErrors)
        {
            control.SectionError("at least one [[control.clients-ingress]] with cert-file and key-file is required");
        }

        if (options.RelayIngresses.Count > 0 && options.RelayTokens.Count == 0 && !control.HasErrors)
        {
            control.SectionError("a [[control.relays-ingress]] needs 'relays-tokens' or 'relays-tokens-file'");
        }

        AddLibraryErrors(control, ControlServerOptionsValidator.Validate(options));
        return settings;
    }

    public static RelaySettings ReadRelay(SectionReader relay, ConfigContext context)
    {
        var settings = new RelaySettings();
        var options = settings.Options;
        options.Token = ClientConfig.ReadToken(relay, "token", "token-file", context) ?? string.Empty;
        options.Metadata = relay.String("metadata") ?? string.Empty;
        options.Ingresses = [.. relay.TableArray("ingress").Select(ReadRelayIngress)];
        if (options.Ingresses.Count == 0)
        {
            options.Ingresses.Add(new RelayIngress());
        }

        options.ControlAddress = relay.HostPort("control-addr") ?? RelayServerOptions.DefaultControlAddress;
        if (relay.CertificateBundle("control-cas-file") is { } authorities)
        {
            options.ControlCertificateAuthorities = authorities;
        }

        options.ControlServerName = relay.String("control-name") is { Length: > 0 } name ? name : null;
        if (relay.Duration("handshake-idle-timeout") is { } handshakeIdleTimeout)
        {
            options.HandshakeIdleTimeout = handshakeIdleTimeout;
        }

        settings.StatusAddress = relay.ListenAddress("status-addr");
        options.StoreDirectory = context.StateDirectory(relay.String("store-dir"), "relay");
        relay.Complete();

        if (string.IsNullOrWhiteSpace(options.Token) && !relay.HasErrors)
        {
            relay.SectionError("a token is required: set 'token', 'token-file' or the CONNET_TOKEN environment variable");
        }

        AddLibraryErrors(relay, options.Validate().Where(error => !error.StartsWith("Token", StringComparison.Ordinal)));
        return settings;
    }

    public static ServerSettings ReadServer(SectionReader server, ConfigContext context)
    {
        var settings = new ServerSettings();
        var control = settings.Control;
        control.Tokens = ReadClientTokens(server, "tokens", "tokens-file", "token-restriction");
        control.EndpointExpiry = ReadExpiry(server);
        control.ClientIngresses = [.. server.TableArray("ingress").Select(ReadClientIngress)];
        settings.StatusAddress = server.ListenAddress("status-addr");
        settings.StoreDirectory = context.StateDirectory(server.String("store-dir"), "server");
        control.StoreDirectory = Path.Combine(settings.StoreDirectory, "control");

        var relay = settings.Relay;
        relay.Ingresses = [.. server.TableArray("relay-ingress").Select(ReadRelayIngress)];
        if (relay.Ingresses.Count == 0)
        {
            relay.Ingresses.Add(new RelayIngress());
        }

        relay.StoreDirectory = Path.Combine(settings.StoreDirectory, "relay");
        server.Complete();

        if (control.ClientIngresses.Count == 0 && !server.HasErrors)
        {
            server.SectionError("at least one [[server.ingress]] with cert-file and key-file is required");
        }

        AddLibraryErrors(server, ControlServerOptionsValidator.Validate(control).Where(error => !error.Contains("Relay", StringComparison.Ordinal)));
        return settings;
    }

    private static void AddLibraryErrors(SectionReader reader, IEnumerable<string> errors)
    {
        if (reader.HasErrors)
        {
            // The library's view of half-read options would only repeat what is already reported.
            return;
        }

        foreach (var error in errors)
        {
            reader.SectionError(error);
        }
    }

    private static TimeSpan ReadExpiry(SectionReader reader)
    {
        TimeSpan expiry = reader.Duration("endpoint-expiry-timeout") ?? TimeSpan.FromSeconds(30);
        return reader.Boolean("endpoint-expiry-disable") == true ? TimeSpan.Zero : expiry;
    }

    /// <summary>Tokens from the file (one a line) when set, else the list.</summary>
    private static List<string> ReadTokenList(SectionReader reader, string key, string fileKey)
    {
        string? file = reader.String(fileKey);
        var literal = reader.StringList(key);
        var tokens = !string.IsNullOrEmpty(file) ? reader.LinesOfFile(fileKey, file) ?? [] : literal ?? [];
        foreach (var blank in tokens.Where(string.IsNullOrWhiteSpace).Take(1))
        {
            reader.Error(key, "holds an empty token");
        }

        return tokens;
    }

    private static List<ControlClientToken> ReadClientTokens(SectionReader reader, string key, string fileKey, string restrictionKey)
    {
        var tokens = ReadTokenList(reader, key, fileKey);
        var restrictions = reader.TableArray(restrictionKey).Select(restriction =>
        {
            var parsed = new ControlTokenRestriction
            {
                AllowCidrs = restriction.StringList("allow-cidrs") ?? [],
                DenyCidrs = restriction.StringList("deny-cidrs") ?? [],
                NameMatches = restriction.String("name-matches"),
                RoleMatches = restriction.String("role-matches"),
            };
            CheckRestriction(restriction, () => TokenRestriction.Parse(parsed.AllowCidrs, parsed.DenyCidrs, parsed.NameMatches, parsed.RoleMatches));
            restriction.Complete();
            return parsed;
        }).ToList();

        if (restrictions.Count > 0 && restrictions.Count != tokens.Count)
        {
            reader.Error(restrictionKey, $"has {restrictions.Count} entries for {tokens.Count} tokens: there must be one per token, in the same order");
        }

        return [.. tokens.Select((token, index) => new ControlClientToken
        {
            Token = token,
            Restriction = index < restrictions.Count ? restrictions[index] : new ControlTokenRestriction(),
        })];
    }

    private static List<ControlRelayToken> ReadRelayTokens(SectionReader control)
    {
        var tokens = ReadTokenList(control, "relays-tokens", "relays-tokens-file");
        var restrictions = control.TableArray("relays-token-restriction").Select(restriction =>
        {
            var allow = restriction.StringList("allow-cidrs") ?? [];
            var deny = restriction.StringList("deny-cidrs") ?? [];
            CheckRestriction(restriction, () => IPRestriction.Parse(allow, deny));
            restriction.Complete();
            return (Allow: allow, Deny: deny);
        }).ToList();

        if (restrictions.Count > 0 && restrictions.Count != tokens.Count)
        {
            control.Error("relays-token-restriction", $"has {restrictions.Count} entries for {tokens.Count} tokens: there must be one per token, in the same order");
        }

        return [.. tokens.Select((token, index) => new ControlRelayToken
        {
            Token = token,
            AllowCidrs = index < restrictions.Count ? restrictions[index].Allow : [],
            DenyCidrs = index < restrictions.Count ? restrictions[index].Deny : [],
        })];
    }

    private static void CheckRestriction(SectionReader reader, Func<object> parse)
    {
        try
        {
            parse();
        }
        catch (FormatException exception)
        {
            reader.SectionError(exception.Message);
        }
    }

    private static ControlClientIngress ReadClientIngress(SectionReader ingress)
    {
        var parsed = new ControlClientIngress
        {
            Address = ingress.ListenAddress("addr") ?? new IPEndPoint(IPAddress.Any, ConnetAlpns.DefaultControlClientsPort),
            Certificate = ingress.CertificateWithKey("cert-file", "key-file"),
            AllowCidrs = ingress.StringList("allow-cidrs") ?? [],
            DenyCidrs = ingress.StringList("deny-cidrs") ?? [],
        };
        RequireCertificate(ingress, parsed.Certificate is not null);
        CheckRestriction(ingress, () => IPRestriction.Parse(parsed.AllowCidrs, parsed.DenyCidrs));
        ingress.Complete();
        return parsed;
    }

    private static ControlRelayIngress ReadRelayIngressOfControl(SectionReader ingress)
    {
        var parsed = new ControlRelayIngress
        {
            Address = ingress.ListenAddress("addr") ?? new IPEndPoint(IPAddress.Any, ConnetAlpns.DefaultControlRelaysPort),
            Certificate = ingress.CertificateWithKey("cert-file", "key-file"),
            AllowCidrs = ingress.StringList("allow-cidrs") ?? [],
            DenyCidrs = ingress.StringList("deny-cidrs") ?? [],
        };
        RequireCertificate(ingress, parsed.Certificate is not null);
        CheckRestriction(ingress, () => IPRestriction.Parse(parsed.AllowCidrs, parsed.DenyCidrs));
        ingress.Complete();
        return parsed;
    }

    private static void RequireCertificate(SectionReader ingress, bool loaded)
    {
        if (!loaded && !ingress.Has("cert-file") && !ingress.Has("key-file"))
        {
            ingress.SectionError("'cert-file' and 'key-file' are required");
        }
    }

    private static RelayIngress ReadRelayIngress(SectionReader ingress)
    {
        var parsed = new RelayIngress
        {
            Address = ingress.ListenAddress("addr") ?? new IPEndPoint(IPAddress.Any, ConnetAlpns.DefaultRelayPort),
            Hostports = ingress.StringList("hostports") ?? [],
            AllowCidrs = ingress.StringList("allow-cidrs") ?? [],
            DenyCidrs = ingress.StringList("deny-cidrs") ?? [],
        };
        foreach (var hostport in parsed.Hostports.Where(hostport => !GoFormats.IsHostPort(hostport)))
        {
            ingress.Error("hostports", $"'{hostport}' is not host:port");
        }

        CheckRestriction(ingress, () => IPRestriction.Parse(parsed.AllowCidrs, parsed.DenyCidrs));
        ingress.Complete();
        return parsed;
    }
}
