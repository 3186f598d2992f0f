using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Host.Configuration;
using Connet.Host.Hosting;
using Connet.Relay;
using Connet.Server.Control;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Connet.Host.Commands;

/// <summary><c>connet server</c> (control + relay), <c>connet control</c> and <c>connet relay</c>.</summary>
internal static class ServerCommands
{
    public static Command Server(CommonOptions common, TextWriter stderr, ConfigContext context)
    {
        var command = new Command("server", "Run a control server and a relay in one process");
        var tokens = Add(command, CommonOptions.List("--tokens", "client token"));
        var tokensFile = Add(command, CommonOptions.Text("--tokens-file", "file of client tokens, one a line"));
        var address = Add(command, CommonOptions.Text("--addr", "UDP address clients connect to (default :19190)"));
        var certFile = Add(command, CommonOptions.Text("--cert-file", "PEM certificate of the client ingress"));
        var keyFile = Add(command, CommonOptions.Text("--key-file", "PEM private key of the client ingress"));
        var allowCidr = Add(command, CommonOptions.List("--allow-cidr", "CIDR allowed to connect as a client"));
        var denyCidr = Add(command, CommonOptions.List("--deny-cidr", "CIDR refused as a client"));
        var relayAddress = Add(command, CommonOptions.Text("--relay-addr", "UDP address of the relay (default :19191)"));
        var relayHostport = Add(command, CommonOptions.List("--relay-hostport", "host:port clients dial to reach the relay"));
        var relayAllowCidr = Add(command, CommonOptions.List("--relay-allow-cidr", "CIDR allowed to connect to the relay"));
        var relayDenyCidr = Add(command, CommonOptions.List("--relay-deny-cidr", "CIDR refused by the relay"));
        var expiryTimeout = Add(command, CommonOptions.Text("--endpoint-expiry-timeout", "how long a disconnected client's endpoints stay (default 30s)"));
        var expiryDisable = Add(command, CommonOptions.Flag("--endpoint-expiry-disable", "drop a client's endpoints as soon as it disconnects"));
        var statusAddress = Add(command, CommonOptions.Text("--status-addr", "TCP address of the status HTTP server"));
        var storeDir = Add(command, CommonOptions.Text("--store-dir", "state directory (else CONNET_STATE_DIR, STATE_DIRECTORY, a temp dir)"));

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overlay = common.RootOverlay(parse);
            overlay.Set(["server", "tokens"], parse.GetValue(tokens));
            overlay.Set(["server", "tokens-file"], parse.GetValue(tokensFile));
            overlay.SetFirst(["server", "ingress"], "addr", parse.GetValue(address));
            overlay.SetFirst(["server", "ingress"], "cert-file", parse.GetValue(certFile));
            overlay.SetFirst(["server", "ingress"], "key-file", parse.GetValue(keyFile));
            overlay.SetFirst(["server", "ingress"], "allow-cidrs", parse.GetValue(allowCidr));
            overlay.SetFirst(["server", "ingress"], "deny-cidrs", parse.GetValue(denyCidr));
            overlay.SetFirst(["server", "relay-ingress"], "addr", parse.GetValue(relayAddress));
            overlay.SetFirst(["server", "relay-ingress"], "hostports", parse.GetValue(relayHostport));
            overlay.SetFirst(["server", "relay-ingress"], "allow-cidrs", parse.GetValue(relayAllowCidr));
            overlay.SetFirst(["server", "relay-ingress"], "deny-cidrs", parse.GetValue(relayDenyCidr));
            overlay.Set(["server", "endpoint-expiry-timeout"], parse.GetValue(expiryTimeout));
            overlay.Set(["server", "endpoint-expiry-disable"], parse.GetValue(expiryDisable));
            overlay.Set(["server", "status-addr"], parse.GetValue(statusAddress));
            overlay.Set(["server", "store-dir"], parse.GetValue(storeDir));

            var (table, root, errors) = ConnetCli.LoadConfig(parse, common, overlay);
            var settings = ServerConfigs.ReadServer(ConnetConfig.Section(table, "server", errors), context);
            errors.ThrowIfAny();
            return await RunServerAsync(root, settings, context, stderr, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Control(CommonOptions common, TextWriter stderr, ConfigContext context)
    {
        var command = new Command("control", "Run a control server");
        var clientsTokens = Add(command, CommonOptions.List("--clients-tokens", "client token"));
        var clientsTokensFile = Add(command, CommonOptions.Text("--clients-tokens-file", "file of client tokens, one a line"));
        var clientsAddress = Add(command, CommonOptions.Text("--clients-addr", "UDP address clients connect to (default :19190)"));
        var clientsCertFile = Add(command, CommonOptions.Text("--clients-cert-file", "PEM certificate of the client ingress"));
        var clientsKeyFile = Add(command, CommonOptions.Text("--clients-key-file", "PEM private key of the client ingress"));
        var clientsAllowCidr = Add(command, CommonOptions.List("--clients-allow-cidr", "CIDR allowed to connect as a client"));
        var clientsDenyCidr = Add(command, CommonOptions.List("--clients-deny-cidr", "CIDR refused as a client"));
        var relaysTokens = Add(command, CommonOptions.List("--relays-tokens", "relay token"));
        var relaysTokensFile = Add(command, CommonOptions.Text("--relays-tokens-file", "file of relay tokens, one a line"));
        var relaysAddress = Add(command, CommonOptions.Text("--relays-addr", "UDP address relays connect to (default :19189)"));
        var relaysCertFile = Add(command, CommonOptions.Text("--relays-cert-file", "PEM certificate of the relay ingress"));
        var relaysKeyFile = Add(command, CommonOptions.Text("--relays-key-file", "PEM private key of the relay ingress"));
        var relaysAllowCidr = Add(command, CommonOptions.List("--relays-allow-cidr", "CIDR allowed to connect as a relay"));
        var relaysDenyCidr = Add(command, CommonOptions.List("--relays-deny-cidr", "CIDR refused as a relay"));
        var expiryTimeout = Add(command, CommonOptions.Text("--endpoint-expiry-timeout", "how long a disconnected client's endpoints stay (default 30s)"));
        var expiryDisable = Add(command, CommonOptions.Flag("--endpoint-expiry-disable", "drop a client's endpoints as soon as it disconnects"));
        var statusAddress = Add(command, CommonOptions.Text("--status-addr", "TCP address of the status HTTP server"));
        var storeDir = Add(command, CommonOptions.Text("--store-dir", "state directory (else CONNET_STATE_DIR, STATE_DIRECTORY, a temp dir)"));

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overlay = common.RootOverlay(parse);
            overlay.Set(["control", "clients-tokens"], parse.GetValue(clientsTokens));
            overlay.Set(["control", "clients-tokens-file"], parse.GetValue(clientsTokensFile));
            overlay.SetFirst(["control", "clients-ingress"], "addr", parse.GetValue(clientsAddress));
            overlay.SetFirst(["control", "clients-ingress"], "cert-file", parse.GetValue(clientsCertFile));
            overlay.SetFirst(["control", "clients-ingress"], "key-file", parse.GetValue(clientsKeyFile));
            overlay.SetFirst(["control", "clients-ingress"], "allow-cidrs", parse.GetValue(clientsAllowCidr));
            overlay.SetFirst(["control", "clients-ingress"], "deny-cidrs", parse.GetValue(clientsDenyCidr));
            overlay.Set(["control", "relays-tokens"], parse.GetValue(relaysTokens));
            overlay.Set(["control", "relays-tokens-file"], parse.GetValue(relaysTokensFile));
            overlay.SetFirst(["control", "relays-ingress"], "addr", parse.GetValue(relaysAddress));
            overlay.SetFirst(["control", "relays-ingress"], "cert-file", parse.GetValue(relaysCertFile));
            overlay.SetFirst(["control", "relays-ingress"], "key-file", parse.GetValue(relaysKeyFile));
            overlay.SetFirst(["control", "relays-ingress"], "allow-cidrs", parse.GetValue(relaysAllowCidr));
            overlay.SetFirst(["control", "relays-ingress"], "deny-cidrs", parse.GetValue(relaysDenyCidr));
            overlay.Set(["control", "endpoint-expiry-timeout"], parse.GetValue(expiryTimeout));
            overlay.Set(["control", "endpoint-expiry-disable"], parse.GetValue(expiryDisable));
            overlay.Set(["control", "status-addr"], parse.GetValue(statusAddress));
            overlay.Set(["control", "store-dir"], parse.GetValue(storeDir));

            var (table, root, errors) = ConnetCli.LoadConfig(parse, common, overlay);
            var settings = ServerConfigs.ReadControl(ConnetConfig.Section(table, "control", errors), context);
            errors.ThrowIfAny();
            return await HostRunner.RunAsync(root, context.Warnings, services =>
            {
                services.AddConnetControlServer(options => CopyControl(settings.Options, options));
                AddStatus(services, settings.StatusAddress, provider => provider.GetRequiredService<ControlServer>().GetStatus());
            }, stderr, cancellationToken: cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Relay(CommonOptions common, TextWriter stderr, ConfigContext context)
    {
        var command = new Command("relay", "Run a relay server");
        var token = Add(command, CommonOptions.Text("--token", "relay token to authenticate to control (else CONNET_TOKEN)"));
        var tokenFile = Add(command, CommonOptions.Text("--token-file", "file whose first line is the token"));
        var metadata = Add(command, CommonOptions.Text("--metadata", "free text shown for this relay"));
        var address = Add(command, CommonOptions.Text("--addr", "UDP address clients connect to (default :19191)"));
        var hostport = Add(command, CommonOptions.List("--hostport", "host:port clients dial to reach this relay"));
        var allowCidr = Add(command, CommonOptions.List("--allow-cidr", "CIDR allowed to connect"));
        var denyCidr = Add(command, CommonOptions.List("--deny-cidr", "CIDR refused"));
        var controlAddress = Add(command, CommonOptions.Text("--control-addr", "control server relay ingress host:port (default localhost:19189)"));
        var controlCasFile = Add(command, CommonOptions.Text("--control-cas-file", "PEM file of certificates trusted for control"));
        var controlName = Add(command, CommonOptions.Text("--control-name", "control server name (default: the host of --control-addr)"));
        var handshakeIdleTimeout = Add(command, CommonOptions.Text("--handshake-idle-timeout", "QUIC handshake idle timeout (default 5s)"));
        var statusAddress = Add(command, CommonOptions.Text("--status-addr", "TCP address of the status HTTP server"));
        var storeDir = Add(command, CommonOptions.Text("--store-dir", "state directory (else CONNET_STATE_DIR, STATE_DIRECTORY, a temp dir)"));

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overlay = common.RootOverlay(parse);
            overlay.Set(["relay", "token"], parse.GetValue(token));
            overlay.Set(["relay", "token-file"], parse.GetValue(tokenFile));
            overlay.Set(["relay", "metadata"], parse.GetValue(metadata));
            overlay.SetFirst(["relay", "ingress"], "addr", parse.GetValue(address));
            overlay.SetFirst(["relay", "ingress"], "hostports", parse.GetValue(hostport));
            overlay.SetFirst(["relay", "ingress"], "allow-cidrs", parse.GetValue(allowCidr));
            overlay.SetFirst(["relay", "ingress"], "deny-cidrs", parse.GetValue(denyCidr));
            overlay.Set(["relay", "control-addr"], parse.GetValue(controlAddress));
            overlay.Set(["relay", "control-cas-file"], parse.GetValue(controlCasFile));
            overlay.Set(["relay", "control-name"], parse.GetValue(controlName));
            overlay.Set(["relay", "handshake-idle-timeout"], parse.GetValue(handshakeIdleTimeout));
            overlay.Set(["relay", "status-addr"], parse.GetValue(statusAddress));
            overlay.Set(["relay", "store-dir"], parse.GetValue(storeDir));

            var (table, root, errors) = ConnetCli.LoadConfig(parse, common, overlay);
            var settings = ServerConfigs.ReadRelay(ConnetConfig.Section(table, "relay", errors), context);
            errors.ThrowIfAny();
            return await HostRunner.RunAsync(root, context.Warnings, services =>
            {
                services.AddConnetRelayServer(options => CopyRelay(settings.Options, options));
                AddStatus(services, settings.StatusAddress, provider => provider.GetRequiredService<RelayServer>().GetStatus());
            }, stderr, cancellationToken: cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Completes server mode: control gets a relay ingress on loopback with a generated certificate and a random
    /// relay token, and the relay dials it pinning that certificate (connet-protocol.md §1). The port is a free
    /// ephemeral one rather than Go's fixed 19189, so a server never clashes with a control or second server on
    /// the same machine; nothing outside the process ever uses it.
    /// </summary>
    public static void CompleteServerMode(ServerSettings settings, X509Certificate2 certificate, int relayControlPort)
    {
        string token = GoFormats.EncodeBase32Hex(RandomNumberGenerator.GetBytes(32));
        settings.Control.RelayIngresses = [new ControlRelayIngress { Address = new IPEndPoint(IPAddress.Loopback, relayControlPort), Certificate = certificate }];
        // No CIDR limit: the relay dials from its ingress socket, whose address need not be loopback, and the ingress
        // itself listens on loopback only, for a token that never leaves this process.
        settings.Control.RelayTokens = [new ControlRelayToken { Token = token }];
        settings.Relay.Token = token;
        settings.Relay.ControlAddress = $"127.0.0.1:{relayControlPort}";
        settings.Relay.ControlServerName = "localhost";
        settings.Relay.ControlCertificateAuthorities = [certificate];
    }

    private static async Task<int> RunServerAsync(RootSettings root, ServerSettings settings, ConfigContext context, TextWriter stderr, CancellationToken cancellationToken)
    {
        using var certificate = SelfSignedCertificates.CreateLocalhost();
        CompleteServerMode(settings, certificate, HostRunner.FreeUdpPort(IPAddress.Loopback));
        return await HostRunner.RunAsync(root, context.Warnings, services =>
        {
            services.AddConnetControlServer(options => CopyControl(settings.Control, options));
            services.AddConnetRelayServer(options => CopyRelay(settings.Relay, options));
            AddStatus(services, settings.StatusAddress, provider => new
            {
                Control = provider.GetRequiredService<ControlServer>().GetStatus(),
                Relay = provider.GetRequiredService<RelayServer>().GetStatus(),
            });
        }, stderr, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    internal static void AddStatus(IServiceCollection services, IPEndPoint? address, Func<IServiceProvider, object> snapshot)
    {
        if (address is null)
        {
            return;
        }

        services.AddHostedService(provider => new StatusHttpServer(address, () => snapshot(provider), provider.GetRequiredService<ILogger<StatusHttpServer>>()));
    }

    internal static void CopyControl(ControlServerOptions from, ControlServerOptions to)
    {
        to.ClientIngresses = from.ClientIngresses;
        to.Tokens = from.Tokens;
        to.RelayIngresses = from.RelayIngresses;
        to.RelayTokens = from.RelayTokens;
        to.EndpointExpiry = from.EndpointExpiry;
        to.StoreDirectory = from.StoreDirectory;
    }

    internal static void CopyRelay(RelayServerOptions from, RelayServerOptions to)
    {
        to.Token = from.Token;
        to.Metadata = from.Metadata;
        to.Ingresses = from.Ingresses;
        to.ControlAddress = from.ControlAddress;
        to.ControlServerName = from.ControlServerName;
        to.ControlCertificateAuthorities = from.ControlCertificateAuthorities;
        to.HandshakeIdleTimeout = from.HandshakeIdleTimeout;
        to.StoreDirectory = from.StoreDirectory;
    }

    private static T Add<T>(Command command, T option)
        where T : Option
    {
        command.Options.Add(option);
        return option;
    }
}
