using System.Net;
using Connet.Client;
using Connet.Host.Configuration;

namespace Connet.Host.Tests;

public sealed class ClientConfigTests
{
    private static readonly ConfigContext NoEnvironment = HostTestKit.Context(("CONNET_CACHE_DIR", "/tmp/connet-cache-test"));

    [Fact]
    public void EveryClientKeyMapsOntoTheOptions()
    {
        using var directory = new TempDirectory();
        var (certFile, _) = directory.WriteCertificate();
        string toml = $"""
            [client]
            token = "client-token-1"
            metadata = "home"
            server-addr = "control.example:19999"
            server-cas-file = "{certFile}"
            server-name = "control.example"
            direct-addr = "127.0.0.1:29192"
            direct-stateless-reset-key = "{new string('0', 52)}"
            status-addr = "127.0.0.1:19182"
            nat-pmp = "disabled"
            relay-encryptions = ["tls", "dhxcp"]

            [client.destinations.serviceX]
            route = "direct"
            relay-encryptions = ["none"]
            proxy-proto-version = ""
            dial-timeout = "0s"
            url = "tcp://localhost:3000"

            [client.sources.serviceX]
            route = "relay"
            url = "tcp://:8000"
            lb-policy = ""
            """;

        var (settings, errors) = HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment);

        Assert.Empty(errors);
        var options = settings!.Options;
        Assert.Equal("client-token-1", options.Token);
        Assert.Equal("home", options.Metadata);
        Assert.Equal("control.example:19999", options.ServerAddress);
        Assert.Single(options.ServerCertificateAuthorities);
        Assert.Equal("control.example", options.ServerName);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 29192), options.DirectAddress);
        Assert.Equal(new byte[32], settings.StatelessResetKey);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 19182), settings.StatusAddress);
        Assert.Equal([ConnetRelayEncryption.Tls, ConnetRelayEncryption.Dhxcp], options.RelayEncryptions);
        var destination = options.Destinations["serviceX"];
        Assert.Equal(ConnetRoute.Direct, destination.Route);
        Assert.Equal([ConnetRelayEncryption.None], destination.RelayEncryptions);
        Assert.Equal("tcp://localhost:3000", destination.Url);
        var source = options.Sources["serviceX"];
        Assert.Equal(ConnetRoute.Relay, source.Route);
        Assert.Null(source.RelayEncryptions);
        Assert.Equal("tcp://:8000", source.Url);
    }

    [Fact]
    public void DefaultsFollowGoConnet()
    {
        var (settings, errors) = HostTestKit.ReadSection<ClientSettings>(
            "[client]\ntoken = \"t\"\n[client.sources.web]\nurl = \"tcp://:8000\"\n", "client", NoEnvironment);

        Assert.Empty(errors);
        var options = settings!.Options;
        Assert.Equal("127.0.0.1:19190", options.ServerAddress);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 19192), options.DirectAddress);
        Assert.Equal([ConnetRelayEncryption.None], options.RelayEncryptions);
        Assert.Null(settings.StatusAddress);
        Assert.Equal(ConnetRoute.Any, options.Sources["web"].Route);
        Assert.Equal(Path.Combine("/tmp/connet-cache-test", "stateless-reset-19192.key"), settings.StatelessResetKeyFile);
    }

    [Fact]
    public void UnknownKeyIsNamedWithFileLineAndSection()
    {
        string toml = "[client]\ntoken = \"t\"\n\n[client.sources.web]\nroute = \"any\"\n\nurll = \"tcp://:8000\"\n";

        var (_, errors) = HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment, "client.toml");

        Assert.Contains("client.toml:7: [client.sources.web] unknown key 'urll'", errors);
    }

    [Theory]
    [InlineData("token = 5", "client.toml:2: [client] 'token' must be a string, found an integer")]
    [InlineData("relay-encryptions = \"tls\"", "client.toml:2: [client] 'relay-encryptions' must be an array, found a string")]
    [InlineData("relay-encryptions = [\"aes\"]", "client.toml:2: [client] 'relay-encryptions' 'aes' is not one of none, tls, dhxcp")]
    [InlineData("relay-encryptions = []", "client.toml:2: [client] 'relay-encryptions' must list at least one of none, tls, dhxcp")]
    [InlineData("relay-encryptions = [\"tls\", \"tls\"]", "client.toml:2: [client] 'relay-encryptions' lists an encryption more than once")]
    [InlineData("relay-encryptions = [1]", "client.toml:2: [client] 'relay-encryptions' must be an array of strings, found an integer")]
    [InlineData("server-addr = \"nohost\"", "client.toml:2: [client] 'server-addr' 'nohost' is not host:port")]
    [InlineData("direct-addr = \"example.com:1\"", "client.toml:2: [client] 'direct-addr' 'example.com:1': a listen address needs an IP address or localhost, not 'example.com'")]
    [InlineData("direct-addr = \"::1:5\"", "client.toml:2: [client] 'direct-addr' '::1:5' is not [host]:port (an IPv6 address goes in brackets)")]
    [InlineData("status-addr = \"127.0.0.1\"", "client.toml:2: [client] 'status-addr' '127.0.0.1' is not [host]:port")]
    [InlineData("direct-stateless-reset-key = \"abc\"", "client.toml:2: [client] 'direct-stateless-reset-key' must be 32 bytes in base32hex (the seed `connet gen-key` prints)")]
    [InlineData("nat-pmp = \"upnp\"", "client.toml:2: [client] 'nat-pmp' 'upnp' is not one of system, dial, disabled")]
    [InlineData("handshake-idle-timeout = \"-1s\"", "client.toml:2: [client] 'handshake-idle-timeout' '-1s' is not a duration like \"5s\", \"1m30s\" or \"250ms\"")]
    [InlineData("handshake-idle-timeout = \"5m1s\"", "client.toml:2: [client] 'handshake-idle-timeout' must be at most 5m")]
    [InlineData("handshake-idle-timeout = 5", "client.toml:2: [client] 'handshake-idle-timeout' must be a string, found an integer")]
    [InlineData("direct-stateless-reset-key-file = 1", "client.toml:2: [client] 'direct-stateless-reset-key-file' must be a string, found an integer")]
    [InlineData("handshake-idle-timeout = \"1 minute\"", "client.toml:2: [client] 'handshake-idle-timeout' '1 minute' is not a duration like \"5s\", \"1m30s\" or \"250ms\"")]
    [InlineData("server-cas-file = \"/nonexistent/ca.pem\"", "client.toml:2: [client] 'server-cas-file' cannot read '/nonexistent/ca.pem': the file does not exist")]
    [InlineData("token-file = \"/nonexistent/token\"", "client.toml:2: [client] 'token-file' cannot read '/nonexistent/token':")]
    [InlineData("sources = 3", "client.toml:2: [client] 'sources' must be a table, found an integer")]
    public void BadClientValuesAreReported(string line, string expected)
    {
        string toml = $"[client]\n{line}\ntoken = \"t\"\n[client.destinations.d]\nurl = \"tcp://localhost:3000\"\n";
        if (line.StartsWith("token ", StringComparison.Ordinal))
        {
            toml = $"[client]\n{line}\n[client.destinations.d]\nurl = \"tcp://localhost:3000\"\n";
        }

        var (_, errors) = HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment, "client.toml");

        Assert.Contains(errors, error => error.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("destinations", "route = \"sometimes\"", "'route' 'sometimes' is not one of any, direct, relay")]
    [InlineData("destinations", "url = \"gopher://x:1\"", "'url' 'gopher://x:1' has the unknown scheme 'gopher'; a destination takes tcp://host:port, tls://host:port, http://host:port[/path], https://host:port[/path], file:./relative or file:///absolute.")]
    [InlineData("destinations", "url = \"tcp://localhost\"", "'url' 'tcp://localhost' has no valid port. A destination takes tcp://host:port, tls://host:port, http://host:port[/path], https://host:port[/path], file:./relative or file:///absolute.")]
    [InlineData("destinations", "url = \"tcp://localhost:3000/path\"", "'url' 'tcp://localhost:3000/path' has a path; only http:// and https:// targets take one.")]
    [InlineData("destinations", "url = \"file:./no-such-folder-here\"", "'url' the folder")]
    [InlineData("destinations", "proxy-proto-version = \"v3\"", "'proxy-proto-version' 'v3' is not one of \"\", v1, v2")]
    [InlineData("destinations", "dial-timeout = \"soon\"", "'dial-timeout' 'soon' is not a duration like \"5s\", \"1m30s\" or \"250ms\"")]
    [InlineData("destinations", "cas-file = \"insecure-skip-verify\"", "'cas-file' is refused: InsecureSkipVerify applies only to tls:// and https:// targets, not 'tcp://localhost:3000'.")]
    [InlineData("destinations", "cas-file = \"/nonexistent/cas.pem\"", "'cas-file' cannot read '/nonexistent/cas.pem': the file does not exist")]
    [InlineData("destinations", "cert-file = \"c.pem\"", "'cert-file' needs 'key-file' too")]
    [InlineData("destinations", "key-file = \"k.pem\"", "'key-file' needs 'cert-file' too")]
    [InlineData("destinations", "lb-retry = \"all\"", "unknown key 'lb-retry'")]
    [InlineData("destinations", "lb-policy = \"random\"", "unknown key 'lb-policy'")]
    [InlineData("sources", "url = \"file:./www\"", "'url' 'file:./www' is not a source URL (tcp://, tls://, http://, https://, ws:// or wss://).")]
    [InlineData("sources", "url = \"tcp://:8000/path\"", "'url' 'tcp://:8000/path' has a path, which only http(s):// and ws(s):// sources take.")]
    [InlineData("sources", "url = \"https://:8443\"", "'url' needs 'cert-file' and 'key-file': Certificate is required: a https:// source is a TLS server and needs its certificate.")]
    [InlineData("sources", "lb-policy = \"fastest\"", "'lb-policy' 'fastest' is not one of \"\", none, least-latency, least-conns, round-robin, random")]
    [InlineData("sources", "lb-retry = \"sometimes\"", "'lb-retry' 'sometimes' is not one of \"\", never, count, timed, all")]
    [InlineData("sources", "lb-retry-max = -1", "'lb-retry-max' -1 is not between 0 and 3600000")]
    [InlineData("sources", "lb-retry-max = \"3\"", "'lb-retry-max' must be an integer, found a string")]
    [InlineData("sources", "lb-retry-max = 3", "'lb-retry-max' is refused: LoadBalanceRetryMax applies only when LoadBalanceRetry is Count or Timed.")]
    [InlineData("sources", "dial-timeout = \"5 s\"", "'dial-timeout' '5 s' is not a duration like \"5s\", \"1m30s\" or \"250ms\"")]
    [InlineData("sources", "dial-timeout = \"2h\"", "'dial-timeout' must be at most 1h")]
    [InlineData("sources", "cas-file = \"/nonexistent/ca.pem\"", "'cas-file' cannot read '/nonexistent/ca.pem': the file does not exist")]
    [InlineData("sources", "cas-file = \"insecure-skip-verify\"", "'cas-file' cannot read 'insecure-skip-verify': the file does not exist")]
    [InlineData("sources", "proxy-proto-version = \"v1\"", "unknown key 'proxy-proto-version'")]
    [InlineData("sources", "relay-encryptions = [\"dhxcp\", \"x\"]", "'relay-encryptions' 'x' is not one of none, tls, dhxcp")]
    public void BadEndpointValuesAreReported(string kind, string line, string expected)
    {
        string url = kind == "sources" ? "tcp://:8000" : "tcp://localhost:3000";
        string toml = $"[client]\ntoken = \"t\"\n[client.{kind}.web]\n{(line.StartsWith("url", StringComparison.Ordinal) ? string.Empty : $"url = \"{url}\"\n")}{line}\n";
        int line_ = toml.Split('\n').ToList().IndexOf(line) + 1;

        var (_, errors) = HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment, "c.toml");

        Assert.Contains(errors, error => error.StartsWith($"c.toml:{line_}: [client.{kind}.web] {expected}", StringComparison.Ordinal));
    }

    [Fact]
    public void EndpointWithoutUrlAndClientWithoutEndpointsAreReported()
    {
        var (_, errors) = HostTestKit.ReadSection<ClientSettings>("[client]\ntoken = \"t\"\n[client.destinations.web]\nroute = \"any\"\n", "client", NoEnvironment, "c.toml");
        Assert.Contains("c.toml:3: [client.destinations.web] 'url' is required", errors);

        (_, errors) = HostTestKit.ReadSection<ClientSettings>("[client]\ntoken = \"t\"\n", "client", NoEnvironment, "c.toml");
        Assert.Contains("c.toml:1: [client] At least one destination or source is required.", errors);
    }

    [Fact]
    public void SyntaxErrorsNameFileAndLine()
    {
        var (_, errors) = HostTestKit.ReadSection<ClientSettings>("[client]\ntoken = \"t\"\ntoken = \"u\"\n", "client", NoEnvironment, "dup.toml");

        Assert.Single(errors);
        Assert.StartsWith("dup.toml:3: ", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownRootKeysAndBadLogSettingsAreReported()
    {
        var (_, errors) = HostTestKit.ReadSection<ClientSettings>(
            "log-level = \"verbose\"\nlog-format = \"xml\"\nclinet = 1\n[client]\ntoken = \"t\"\n[client.sources.s]\nurl = \"tcp://:1\"\n", "client", NoEnvironment, "r.toml");

        Assert.Contains("r.toml:1: [root] 'log-level' 'verbose' is not one of fine, debug, info, warn, error", errors);
        Assert.Contains("r.toml:2: [root] 'log-format' 'xml' is not one of text, json", errors);
        Assert.Contains("r.toml:3: [root] unknown key 'clinet'", errors);
    }

    [Fact]
    public void TokenComesFromTokenFileThenTokenThenEnvironment()
    {
        using var directory = new TempDirectory();
        string tokenFile = directory.Write("token", "from-file\nsecond line ignored\n");
        string endpoint = "\n[client.sources.s]\nurl = \"tcp://:1\"\n";
        var environment = HostTestKit.Context(("CONNET_TOKEN", "from-env"));

        var fromFile = HostTestKit.ReadSection<ClientSettings>($"[client]\ntoken-file = \"{tokenFile}\"\ntoken = \"literal\"{endpoint}", "client", environment);
        var literal = HostTestKit.ReadSection<ClientSettings>($"[client]\ntoken = \"literal\"{endpoint}", "client", environment);
        var fromEnvironment = HostTestKit.ReadSection<ClientSettings>($"[client]{endpoint}", "client", environment);
        var none = HostTestKit.ReadSection<ClientSettings>($"[client]{endpoint}", "client", NoEnvironment, "n.toml");

        Assert.Equal("from-file", fromFile.Settings!.Options.Token);
        Assert.Equal("literal", literal.Settings!.Options.Token);
        Assert.Equal("from-env", fromEnvironment.Settings!.Options.Token);
        Assert.Contains("n.toml:1: [client] a token is required: set 'token', 'token-file' or the CONNET_TOKEN environment variable", none.Errors);
    }

    [Fact]
    public void FilesMergeAndFlagsOverrideThem()
    {
        using var directory = new TempDirectory();
        string first = directory.Write("first.toml", """
            [client]
            token = "first-token"
            metadata = "first"
            server-addr = "first.example:1"
            [client.destinations.a]
            url = "tcp://localhost:3000"
            route = "direct"
            """);
        string second = directory.Write("second.toml", """
            [client]
            metadata = "second"
            [client.destinations.a]
            route = "relay"
            [client.destinations.b]
            url = "tcp://localhost:4000"
            """);

        var settings = HostTestKit.LoadClient(NoEnvironment, "--config", first, "--config", second,
            "--server-addr", "flag.example:2", "--dst-name", "b", "--dst-route", "direct", "--src-name", "c", "--src-url", "tcp://127.0.0.1:5000",
            "--relay-encryption", "dhxcp", "--relay-encryption", "none");

        var options = settings.Options;
        Assert.Equal("first-token", options.Token);
        Assert.Equal("second", options.Metadata);
        Assert.Equal("flag.example:2", options.ServerAddress);
        Assert.Equal("tcp://localhost:3000", options.Destinations["a"].Url);
        Assert.Equal(ConnetRoute.Relay, options.Destinations["a"].Route);
        Assert.Equal(ConnetRoute.Direct, options.Destinations["b"].Route);
        Assert.Equal("tcp://localhost:4000", options.Destinations["b"].Url);
        Assert.Equal("tcp://127.0.0.1:5000", options.Sources["c"].Url);
        Assert.Equal([ConnetRelayEncryption.Dhxcp, ConnetRelayEncryption.None], options.RelayEncryptions);
    }

    [Fact]
    public void FlagsAloneMakeAClientAndBadFlagsAreNamed()
    {
        var settings = HostTestKit.LoadClient(HostTestKit.Context(("CONNET_TOKEN", "env-token")),
            "--src-name", "web", "--src-url", "tcp://:8000", "--src-route", "relay", "--src-relay-encryption", "tls", "--direct-addr", ":0");

        Assert.Equal("env-token", settings.Options.Token);
        Assert.Equal(ConnetRoute.Relay, settings.Options.Sources["web"].Route);
        Assert.Equal([ConnetRelayEncryption.Tls], settings.Options.Sources["web"].RelayEncryptions);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 0), settings.Options.DirectAddress);

        var errors = HostTestKit.ClientErrors(NoEnvironment, "--token", "t", "--dst-name", "web", "--dst-route", "sideways", "--dst-url", "tcp://localhost:1");
        Assert.Contains("command line (route): [client.destinations.web] 'route' 'sideways' is not one of any, direct, relay", errors);

        errors = HostTestKit.ClientErrors(NoEnvironment, "--token", "t", "--dst-url", "tcp://localhost:1");
        Assert.Contains("command line: the destination flags need --dst-name", errors);

        errors = HostTestKit.ClientErrors(NoEnvironment, "--token", "t", "--src-name", "web");
        Assert.Contains(errors, error => error.EndsWith("[client.sources.web] 'url' is required", StringComparison.Ordinal));
    }

    [Fact]
    public void StatelessResetKeyIsReadOrGeneratedIntoItsFile()
    {
        using var directory = new TempDirectory();
        var context = HostTestKit.Context(("CONNET_CACHE_DIR", Path.Combine(directory.Path, "cache")));
        var (settings, errors) = HostTestKit.ReadSection<ClientSettings>(
            "[client]\ntoken = \"t\"\ndirect-addr = \"127.0.0.1:19300\"\n[client.sources.s]\nurl = \"tcp://:1\"\n", "client", context);
        Assert.Empty(errors);
        Assert.Equal(Path.Combine(directory.Path, "cache", "stateless-reset-127.0.0.1-19300.key"), settings!.StatelessResetKeyFile);

        byte[] generated = settings.ResolveStatelessResetKey();
        byte[] again = settings.ResolveStatelessResetKey();

        Assert.Equal(32, generated.Length);
        Assert.Equal(generated, again);
        Assert.Equal(generated, File.ReadAllBytes(settings.StatelessResetKeyFile!));

        string keyFile = directory.Write("key.txt", GoFormats.EncodeBase32Hex(Enumerable.Range(0, 32).Select(value => (byte)value).ToArray()) + "\n");
        (settings, _) = HostTestKit.ReadSection<ClientSettings>(
            $"[client]\ntoken = \"t\"\ndirect-stateless-reset-key-file = \"{keyFile}\"\n[client.sources.s]\nurl = \"tcp://:1\"\n", "client", context);
        Assert.Equal(Enumerable.Range(0, 32).Select(value => (byte)value).ToArray(), settings!.ResolveStatelessResetKey());
    }
}
