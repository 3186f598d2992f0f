using System.CommandLine;
using Connet.Client;
using Connet.Host.Configuration;
using Connet.Host.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Connet.Host.Commands;

/// <summary>The root command: a client, configured by <c>[client]</c> and flags (one destination and one source).</summary>
internal static partial class ClientCommand
{
    private sealed class Flags
    {
        public Option<string?> Token { get; } = CommonOptions.Text("--token", "token to authenticate to the control server (else CONNET_TOKEN)");
        public Option<string?> TokenFile { get; } = CommonOptions.Text("--token-file", "file whose first line is the token");
        public Option<string?> Metadata { get; } = CommonOptions.Text("--metadata", "free text shown for this client");
        public Option<string?> ServerAddress { get; } = CommonOptions.Text("--server-addr", "control server host:port (default 127.0.0.1:19190)");
        public Option<string?> ServerCasFile { get; } = CommonOptions.Text("--server-cas-file", "PEM file of certificates trusted for the control server");
        public Option<string?> ServerName { get; } = CommonOptions.Text("--server-name", "control server name (default: the host of --server-addr)");
        public Option<string?> DirectAddress { get; } = CommonOptions.Text("--direct-addr", "UDP address for peers and control ([host]:port, default :19192)");
        public Option<string?> StatusAddress { get; } = CommonOptions.Text("--status-addr", "TCP address of the status HTTP server ([host]:port)");
        public Option<string?> NatPmp { get; } = CommonOptions.Text("--nat-pmp", "NAT-PMP: system, dial or disabled (absent runs without NAT-PMP)");
        public Option<string?> HandshakeIdleTimeout { get; } = CommonOptions.Text("--handshake-idle-timeout", "QUIC handshake idle timeout, a duration such as 30s (default 5s)");
        public Option<string[]> RelayEncryption { get; } = CommonOptions.List("--relay-encryption", "relay encryption for all endpoints: none, tls or dhxcp");
        public Option<string?> DestinationName { get; } = CommonOptions.Text("--dst-name", "name of a destination");
        public Option<string?> DestinationRoute { get; } = CommonOptions.Text("--dst-route", "destination route: any, direct or relay");
        public Option<string[]> DestinationRelayEncryption { get; } = CommonOptions.List("--dst-relay-encryption", "destination relay encryption");
        public Option<string?> DestinationUrl { get; } = CommonOptions.Text("--dst-url", "what the destination serves: tcp://, tls://, http(s)://host:port[/path], file:path");
        public Option<string?> DestinationCasFile { get; } = CommonOptions.Text("--dst-cas-file", "PEM certificates trusted for a tls:// or https:// target, or insecure-skip-verify");
        public Option<string?> SourceName { get; } = CommonOptions.Text("--src-name", "name of a source");
        public Option<string?> SourceRoute { get; } = CommonOptions.Text("--src-route", "source route: any, direct or relay");
        public Option<string[]> SourceRelayEncryption { get; } = CommonOptions.List("--src-relay-encryption", "source relay encryption");
        public Option<string?> SourceUrl { get; } = CommonOptions.Text("--src-url", "where the source listens: tcp://, tls://, http(s)://, ws(s):// [host]:port[/path]");
        public Option<string?> SourceCertFile { get; } = CommonOptions.Text("--src-cert-file", "PEM server certificate of a tls://, https:// or wss:// source");
        public Option<string?> SourceKeyFile { get; } = CommonOptions.Text("--src-key-file", "PEM private key of --src-cert-file");

        public IEnumerable<Option> All => [Token, TokenFile, Metadata, ServerAddress, ServerCasFile, ServerName, DirectAddress, StatusAddress,
            NatPmp, HandshakeIdleTimeout, RelayEncryption, DestinationName, DestinationRoute, DestinationRelayEncryption, DestinationUrl,
            DestinationCasFile, SourceName, SourceRoute, SourceRelayEncryption, SourceUrl, SourceCertFile, SourceKeyFile];
    }

    public static void Configure(RootCommand root, CommonOptions common, TextWriter stderr, ConfigContext context)
    {
        var flags = new Flags();
        foreach (var option in flags.All)
        {
            root.Options.Add(option);
        }

        root.SetAction(async (parse, cancellationToken) =>
        {
            var (rootSettings, settings) = Load(parse, common, flags, context);
            return await RunAsync(rootSettings, settings, context, stderr, cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>Files, then flags, mapped onto the client's options; throws <see cref="ConfigException"/> with every error.</summary>
    private static (RootSettings Root, ClientSettings Client) Load(ParseResult parse, CommonOptions common, Flags flags, ConfigContext context)
    {
        var overlay = common.RootOverlay(parse);
        string[] client = ["client"];
        overlay.Set([.. client, "token"], parse.GetValue(flags.Token));
        overlay.Set([.. client, "token-file"], parse.GetValue(flags.TokenFile));
        overlay.Set([.. client, "metadata"], parse.GetValue(flags.Metadata));
        overlay.Set([.. client, "server-addr"], parse.GetValue(flags.ServerAddress));
        overlay.Set([.. client, "server-cas-file"], parse.GetValue(flags.ServerCasFile));
        overlay.Set([.. client, "server-name"], parse.GetValue(flags.ServerName));
        overlay.Set([.. client, "direct-addr"], parse.GetValue(flags.DirectAddress));
        overlay.Set([.. client, "status-addr"], parse.GetValue(flags.StatusAddress));
        overlay.Set([.. client, "nat-pmp"], parse.GetValue(flags.NatPmp));
        overlay.Set([.. client, "handshake-idle-timeout"], parse.GetValue(flags.HandshakeIdleTimeout));
        overlay.Set([.. client, "relay-encryptions"], parse.GetValue(flags.RelayEncryption));

        var usage = new List<string>();
        string? destination = parse.GetValue(flags.DestinationName);
        string? source = parse.GetValue(flags.SourceName);
        SetEndpoint(overlay, usage, "destinations", "--dst-name", destination, [
            ("route", parse.GetValue(flags.DestinationRoute)),
            ("url", parse.GetValue(flags.DestinationUrl)),
            ("cas-file", parse.GetValue(flags.DestinationCasFile)),
        ], parse.GetValue(flags.DestinationRelayEncryption));
        SetEndpoint(overlay, usage, "sources", "--src-name", source, [
            ("route", parse.GetValue(flags.SourceRoute)),
            ("url", parse.GetValue(flags.SourceUrl)),
            ("cert-file", parse.GetValue(flags.SourceCertFile)),
            ("key-file", parse.GetValue(flags.SourceKeyFile)),
        ], parse.GetValue(flags.SourceRelayEncryption));
        if (usage.Count > 0)
        {
            throw new ConfigException(usage);
        }

        var (table, root, errors) = ConnetCli.LoadConfig(parse, common, overlay);
        var settings = ClientConfig.Read(ConnetConfig.Section(table, "client", errors), context);
        errors.ThrowIfAny();
        return (root, settings);
    }

    /// <summary>Loads a client the way <c>connet [flags]</c> does, for tests.</summary>
    internal static (RootSettings Root, ClientSettings Client) LoadForTest(string[] args, ConfigContext context)
    {
        var root = new RootCommand();
        var common = new CommonOptions();
        root.Options.Add(common.Config);
        root.Options.Add(common.LogLevel);
        root.Options.Add(common.LogFormat);
        var flags = new Flags();
        foreach (var option in flags.All)
        {
            root.Options.Add(option);
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            throw new ConfigException([.. parse.Errors.Select(error => error.Message)]);
        }

        return Load(parse, common, flags, context);
    }

    private static void SetEndpoint(ConnetConfig.Overlay overlay, List<string> usage, string kind, string nameFlag, string? name,
        (string Key, string? Value)[] values, string[]? encryptions)
    {
        bool any = values.Any(value => value.Value is not null) || encryptions is { Length: > 0 };
        if (string.IsNullOrEmpty(name))
        {
            if (any)
            {
                usage.Add($"command line: the {kind[..^1]} flags need {nameFlag}");
            }

            return;
        }

        foreach (var (key, value) in values)
        {
            overlay.Set(["client", kind, name, key], value);
        }

        overlay.Set(["client", kind, name, "relay-encryptions"], encryptions);
        if (!any)
        {
            // A named endpoint with no other flag still exists, so a missing url is reported for it.
            _ = overlay.Root.GetOrAddTable(["client", kind, name], new ConfigLocation($"command line ({nameFlag})", 0));
        }
    }

    private static async Task<int> RunAsync(RootSettings root, ClientSettings settings, ConfigContext context, TextWriter stderr, CancellationToken cancellationToken)
    {
        byte[] resetKey;
        try
        {
            resetKey = settings.ResolveStatelessResetKey();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([$"stateless reset key file '{settings.StatelessResetKeyFile}': {exception.Message}"]);
        }

        settings.Options.StatelessResetKey = resetKey;
        return await HostRunner.RunAsync(root, context.Warnings, services =>
        {
            services.AddConnetClient(options => CopyOptions(settings.Options, options));
            if (settings.StatusAddress is { } statusAddress)
            {
                services.AddHostedService(provider => new StatusHttpServer(
                    statusAddress,
                    () => provider.GetRequiredService<ConnetClient>().GetStatus(),
                    provider.GetRequiredService<ILogger<StatusHttpServer>>()));
            }
        }, stderr, started: provider =>
        {
            if (settings.NatPmpDefaulted)
            {
                Log.NatPmpDisabledByDefault(provider.GetRequiredService<ILoggerFactory>().CreateLogger("connet"));
            }

            return Task.CompletedTask;
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    internal static void CopyOptions(ConnetClientOptions from, ConnetClientOptions to)
    {
        to.Token = from.Token;
        to.ServerAddress = from.ServerAddress;
        to.ServerName = from.ServerName;
        to.ServerCertificateAuthorities = from.ServerCertificateAuthorities;
        to.DirectAddress = from.DirectAddress;
        to.HandshakeIdleTimeout = from.HandshakeIdleTimeout;
        to.StatelessResetKey = from.StatelessResetKey;
        to.Metadata = from.Metadata;
        to.NatPmp = from.NatPmp;
        to.RelayEncryptions = from.RelayEncryptions;
        to.Destinations = from.Destinations;
        to.Sources = from.Sources;
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Information, "NAT-PMP is disabled (no nat-pmp key; Go connet's default is nat-pmp = \"system\"): set nat-pmp = \"system\" or \"dial\" to map the direct port on the router")]
        public static partial void NatPmpDisabledByDefault(ILogger logger);
    }
}
