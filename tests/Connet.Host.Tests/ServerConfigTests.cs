using System.Net;
using Connet.Host.Commands;
using Connet.Host.Configuration;

namespace Connet.Host.Tests;

public sealed class ServerConfigTests
{
    [Fact]
    public void ServerSectionMapsOntoControlAndRelay()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        string toml = $"""
            [server]
            tokens = ["client-d-token", "client-s-token"]
            endpoint-expiry-timeout = "1m30s"
            status-addr = "127.0.0.1:19181"
            store-dir = "{directory.Path}/state"

            [[server.token-restriction]]
            allow-cidrs = ["10.0.0.0/8"]
            deny-cidrs = ["10.1.0.0/16"]
            name-matches = "^web"
            role-matches = "source"

            [[server.token-restriction]]

            [[server.ingress]]
            addr = "127.0.0.1:29190"
            cert-file = "{certFile}"
            key-file = "{keyFile}"
            allow-cidrs = ["127.0.0.0/8"]
            deny-cidrs = ["127.0.0.2/32"]

            [[server.relay-ingress]]
            addr = ":29191"
            hostports = ["relay.example:29191"]
            allow-cidrs = ["0.0.0.0/0"]
            deny-cidrs = []
            """;

        var (settings, errors) = HostTestKit.ReadSection<ServerSettings>(toml, "server", HostTestKit.Context());

        Assert.Empty(errors);
        var control = settings!.Control;
        Assert.Equal(["client-d-token", "client-s-token"], control.Tokens.Select(token => token.Token));
        Assert.Equal(["10.0.0.0/8"], control.Tokens[0].Restriction.AllowCidrs);
        Assert.Equal(["10.1.0.0/16"], control.Tokens[0].Restriction.DenyCidrs);
        Assert.Equal("^web", control.Tokens[0].Restriction.NameMatches);
        Assert.Equal("source", control.Tokens[0].Restriction.RoleMatches);
        Assert.Empty(control.Tokens[1].Restriction.AllowCidrs);
        Assert.Equal(TimeSpan.FromSeconds(90), control.EndpointExpiry);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 19181), settings.StatusAddress);
        Assert.Equal(Path.Combine($"{directory.Path}/state", "control"), control.StoreDirectory);
        Assert.Equal(Path.Combine($"{directory.Path}/state", "relay"), settings.Relay.StoreDirectory);
        var ingress = Assert.Single(control.ClientIngresses);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 29190), ingress.Address);
        Assert.NotNull(ingress.Certificate);
        Assert.True(ingress.Certificate!.HasPrivateKey);
        Assert.Equal(["127.0.0.0/8"], ingress.AllowCidrs);
        Assert.Equal(["127.0.0.2/32"], ingress.DenyCidrs);
        var relayIngress = Assert.Single(settings.Relay.Ingresses);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 29191), relayIngress.Address);
        Assert.Equal(["relay.example:29191"], relayIngress.Hostports);

        using var certificate = Hosting.SelfSignedCertificates.CreateLocalhost();
        ServerCommands.CompleteServerMode(settings, certificate, 40000);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 40000), Assert.Single(control.RelayIngresses).Address);
        Assert.Equal(settings.Relay.Token, Assert.Single(control.RelayTokens).Token);
        Assert.Equal("127.0.0.1:40000", settings.Relay.ControlAddress);
        Assert.Empty(Connet.Server.Control.ControlServerOptionsValidator.Validate(control));
        Assert.Empty(settings.Relay.Validate());
    }

    [Fact]
    public void ServerDefaultsAndStateDirectoryFromEnvironment()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        string toml = $"[server]\ntokens = [\"t\"]\nendpoint-expiry-disable = true\n[[server.ingress]]\ncert-file = \"{certFile}\"\nkey-file = \"{keyFile}\"\n";

        var (settings, errors) = HostTestKit.ReadSection<ServerSettings>(toml, "server", HostTestKit.Context(("CONNET_STATE_DIR", "/var/lib/connet")));

        Assert.Empty(errors);
        Assert.Equal(TimeSpan.Zero, settings!.Control.EndpointExpiry);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 19190), settings.Control.ClientIngresses[0].Address);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 19191), settings.Relay.Ingresses[0].Address);
        Assert.Equal("/var/lib/connet/control", settings.Control.StoreDirectory);

        var context = HostTestKit.Context(("STATE_DIRECTORY", "/state"));
        (settings, _) = HostTestKit.ReadSection<ServerSettings>(toml, "server", context);
        Assert.Equal("/state/relay", settings!.Relay.StoreDirectory);

        context = HostTestKit.Context();
        (settings, _) = HostTestKit.ReadSection<ServerSettings>(toml, "server", context);
        Assert.StartsWith(Path.GetTempPath(), settings!.StoreDirectory, StringComparison.Ordinal);
        Assert.Contains(context.Warnings, warning => warning.Contains("lost on restart", StringComparison.Ordinal));
    }

    /// <summary>
    /// A plain key goes on line 2 of [server]; a table array goes from line 7, after the tokens (line 2) and a valid
    /// [[server.ingress]] (lines 4-6).
    /// </summary>
    [Theory]
    [InlineData("tokens = \"t\"", "s.toml:2: [server] 'tokens' must be an array, found a string")]
    [InlineData("endpoint-expiry-timeout = \"soon\"", "s.toml:2: [server] 'endpoint-expiry-timeout' 'soon' is not a duration like \"5s\", \"1m30s\" or \"250ms\"")]
    [InlineData("endpoint-expiry-disable = \"yes\"", "s.toml:2: [server] 'endpoint-expiry-disable' must be a boolean, found a string")]
    [InlineData("status-addr = \"localhost\"", "s.toml:2: [server] 'status-addr' 'localhost' is not [host]:port")]
    [InlineData("store = \"/x\"", "s.toml:2: [server] unknown key 'store'")]
    [InlineData("[[server.token-restriction]]\nallow-cidrs = [\"10.0.0.0/33\"]", "s.toml:7: [server.token-restriction[0]]")]
    [InlineData("[[server.token-restriction]]\nrole-matches = \"admin\"", "s.toml:7: [server.token-restriction[0]]")]
    [InlineData("[[server.token-restriction]]\n[[server.token-restriction]]", "s.toml:7: [server] 'token-restriction' has 2 entries for 1 tokens")]
    [InlineData("[[server.relay-ingress]]\nhostports = [\"nope\"]", "s.toml:8: [server.relay-ingress[0]] 'hostports' 'nope' is not host:port")]
    [InlineData("[[server.relay-ingress]]\nhost-ports = []", "s.toml:8: [server.relay-ingress[0]] unknown key 'host-ports'")]
    [InlineData("[[server.ingress]]\naddr = \":1\"", "s.toml:7: [server.ingress[1]] 'cert-file' and 'key-file' are required")]
    [InlineData("[[server.ingress]]\ncert-file = \"/nonexistent.pem\"", "s.toml:8: [server.ingress[1]] 'cert-file' needs 'key-file' too")]
    [InlineData("[[server.ingress]]\ncert-file = \"/no.pem\"\nkey-file = \"/no.key\"", "s.toml:8: [server.ingress[1]] 'cert-file' cannot read '/no.pem': the file does not exist")]
    public void BadServerValuesAreReported(string lines, string expected)
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        bool tableArray = lines.StartsWith("[[", StringComparison.Ordinal);
        string second = tableArray ? "tokens = [\"t\"]" : lines;
        string third = lines.StartsWith("tokens", StringComparison.Ordinal) || tableArray ? "# -" : "tokens = [\"t\"]";
        string toml = $"[server]\n{second}\n{third}\n[[server.ingress]]\ncert-file = \"{certFile}\"\nkey-file = \"{keyFile}\"\n{(tableArray ? lines : string.Empty)}\n";

        var (_, errors) = HostTestKit.ReadSection<ServerSettings>(toml, "server", HostTestKit.Context(("CONNET_STATE_DIR", directory.Path)), "s.toml");

        Assert.Contains(errors, error => error.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ControlSectionMapsEveryKey()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        string clientTokens = directory.Write("clients", "one\n\ntwo\n");
        string relayTokens = directory.Write("relays", "relay-one\n");
        string toml = $"""
            [control]
            clients-tokens-file = "{clientTokens}"
            endpoint-expiry-timeout = "10s"
            relays-tokens-file = "{relayTokens}"
            status-addr = ":19183"
            store-dir = "{directory.Path}/control"

            [[control.clients-token-restriction]]
            role-matches = "destination"
            [[control.clients-token-restriction]]
            name-matches = "x"

            [[control.relays-token-restriction]]
            allow-cidrs = ["127.0.0.1/32"]

            [[control.clients-ingress]]
            addr = "127.0.0.1:0"
            cert-file = "{certFile}"
            key-file = "{keyFile}"

            [[control.relays-ingress]]
            addr = "127.0.0.1:0"
            cert-file = "{certFile}"
            key-file = "{keyFile}"
            deny-cidrs = ["10.0.0.0/8"]
            """;

        var (settings, errors) = HostTestKit.ReadSection<ControlSettings>(toml, "control", HostTestKit.Context());

        Assert.Empty(errors);
        var options = settings!.Options;
        Assert.Equal(["one", "two"], options.Tokens.Select(token => token.Token));
        Assert.Equal("destination", options.Tokens[0].Restriction.RoleMatches);
        Assert.Equal("x", options.Tokens[1].Restriction.NameMatches);
        Assert.Equal(TimeSpan.FromSeconds(10), options.EndpointExpiry);
        Assert.Equal("relay-one", Assert.Single(options.RelayTokens).Token);
        Assert.Equal(["127.0.0.1/32"], options.RelayTokens[0].AllowCidrs);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 19183), settings.StatusAddress);
        Assert.Equal($"{directory.Path}/control", options.StoreDirectory);
        Assert.Single(options.ClientIngresses);
        Assert.Equal(["10.0.0.0/8"], Assert.Single(options.RelayIngresses).DenyCidrs);
    }

    [Fact]
    public void ControlNeedsAnIngressAndRelayTokensForARelayIngress()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        var context = HostTestKit.Context(("CONNET_STATE_DIR", directory.Path));

        var (_, errors) = HostTestKit.ReadSection<ControlSettings>("[control]\nclients-tokens = [\"t\"]\n", "control", context, "c.toml");
        Assert.Contains("c.toml:1: [control] at least one [[control.clients-ingress]] with cert-file and key-file is required", errors);

        string toml = $"[control]\nclients-tokens = [\"t\"]\n[[control.clients-ingress]]\ncert-file = \"{certFile}\"\nkey-file = \"{keyFile}\"\n[[control.relays-ingress]]\ncert-file = \"{certFile}\"\nkey-file = \"{keyFile}\"\n";
        (_, errors) = HostTestKit.ReadSection<ControlSettings>(toml, "control", context, "c.toml");
        Assert.Contains("c.toml:1: [control] a [[control.relays-ingress]] needs 'relays-tokens' or 'relays-tokens-file'", errors);

        (_, errors) = HostTestKit.ReadSection<ControlSettings>(toml + "[[control.relays-token-restriction]]\nallow-cidrs = [\"x\"]\n", "control", context, "c.toml");
        Assert.Contains(errors, error => error.StartsWith("c.toml:9: [control.relays-token-restriction[0]]", StringComparison.Ordinal));
    }

    [Fact]
    public void RelaySectionMapsEveryKey()
    {
        using var directory = new TempDirectory();
        var (certFile, _) = directory.WriteCertificate();
        string tokenFile = directory.Write("relay-token", "relay-secret\n");
        string toml = $"""
            [relay]
            token-file = "{tokenFile}"
            metadata = "eu-1"
            control-addr = "control.example:19189"
            control-cas-file = "{certFile}"
            control-name = "control.example"
            handshake-idle-timeout = "30s"
            status-addr = "127.0.0.1:19184"
            store-dir = "{directory.Path}/relay"

            [[relay.ingress]]
            addr = ":29191"
            hostports = ["relay.example:29191", "[2001:db8::1]:29191"]
            allow-cidrs = ["0.0.0.0/0"]
            """;

        var (settings, errors) = HostTestKit.ReadSection<RelaySettings>(toml, "relay", HostTestKit.Context());

        Assert.Empty(errors);
        var options = settings!.Options;
        Assert.Equal("relay-secret", options.Token);
        Assert.Equal("eu-1", options.Metadata);
        Assert.Equal("control.example:19189", options.ControlAddress);
        Assert.Single(options.ControlCertificateAuthorities);
        Assert.Equal("control.example", options.ControlServerName);
        Assert.Equal(TimeSpan.FromSeconds(30), options.HandshakeIdleTimeout);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 19184), settings.StatusAddress);
        Assert.Equal($"{directory.Path}/relay", options.StoreDirectory);
        var ingress = Assert.Single(options.Ingresses);
        Assert.Equal(["relay.example:29191", "[2001:db8::1]:29191"], ingress.Hostports);
    }

    [Fact]
    public void RelayTokenFromEnvironmentAndBadRelayValues()
    {
        var context = HostTestKit.Context(("CONNET_TOKEN", "env-relay"), ("CONNET_STATE_DIR", "/tmp"));
        var (settings, errors) = HostTestKit.ReadSection<RelaySettings>("[relay]\n", "relay", context);
        Assert.Empty(errors);
        Assert.Equal("env-relay", settings!.Options.Token);
        Assert.Equal("localhost:19189", settings.Options.ControlAddress);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 19191), Assert.Single(settings.Options.Ingresses).Address);

        (_, errors) = HostTestKit.ReadSection<RelaySettings>("[relay]\ntoken = \"t\"\nhandshake-idle-timeout = \"10m\"\ncontrol-addr = \"x\"\n", "relay", context, "r.toml");
        Assert.Contains("r.toml:4: [relay] 'control-addr' 'x' is not host:port", errors);

        (_, errors) = HostTestKit.ReadSection<RelaySettings>("[relay]\ntoken = \"t\"\nhandshake-idle-timeout = \"10m\"\n", "relay", context, "r.toml");
        Assert.Contains(errors, error => error.StartsWith("r.toml:1: [relay] HandshakeIdleTimeout", StringComparison.Ordinal));

        (_, errors) = HostTestKit.ReadSection<RelaySettings>("[relay]\ntoken = \"t\"\n[relay.ingress]\naddr = \":1\"\n", "relay", context, "r.toml");
        Assert.Contains("r.toml:3: [relay] 'ingress' must be an array of tables, found a table", errors);
    }
}
