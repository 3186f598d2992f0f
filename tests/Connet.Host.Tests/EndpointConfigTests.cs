using System.Reflection;
using Connet.Client;
using Connet.Host.Commands;
using Connet.Host.Configuration;

namespace Connet.Host.Tests;

/// <summary>The client keys and flags that map onto the library's endpoint, TLS, load-balancing and QUIC options.</summary>
public sealed class EndpointConfigTests
{
    private static readonly ConfigContext NoEnvironment = HostTestKit.Context(("CONNET_CACHE_DIR", "/tmp/connet-cache-test"));

    [Fact]
    public void EveryDestinationKeyMapsOntoTheOptions()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        var (caFile, _) = directory.WriteCertificate("ca-");
        string toml = $"""
            [client]
            token = "t"

            [client.destinations.tls]
            url = "tls://localhost:3000"
            proxy-proto-version = "v2"
            dial-timeout = "2s"
            cas-file = "{caFile}"
            cert-file = "{certFile}"
            key-file = "{keyFile}"

            [client.destinations.web]
            url = "https://localhost:3000/path"
            proxy-proto-version = ""
            cas-file = "insecure-skip-verify"

            [client.destinations.files]
            url = "file://{directory.Path}"
            """;

        var (settings, errors) = HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment);

        Assert.Empty(errors);
        var tls = settings!.Options.Destinations["tls"];
        Assert.Equal("tls://localhost:3000", tls.Url);
        Assert.Equal(ConnetProxyProtocol.V2, tls.ProxyProtocol);
        Assert.Equal(TimeSpan.FromSeconds(2), tls.DialTimeout);
        Assert.Equal(File.ReadAllText(caFile).Trim(), Assert.Single(tls.CertificateAuthorities).ExportCertificatePem().Trim());
        Assert.False(tls.InsecureSkipVerify);
        Assert.NotNull(tls.Certificate);
        Assert.True(tls.Certificate.HasPrivateKey);
        Assert.Equal(File.ReadAllText(certFile).Trim(), tls.Certificate.ExportCertificatePem().Trim());

        var web = settings.Options.Destinations["web"];
        Assert.Equal("https://localhost:3000/path", web.Url);
        Assert.Equal(ConnetProxyProtocol.None, web.ProxyProtocol);
        Assert.True(web.InsecureSkipVerify);
        Assert.Empty(web.CertificateAuthorities);
        Assert.Null(web.Certificate);
        Assert.Equal(TimeSpan.Zero, web.DialTimeout);

        Assert.Equal($"file://{directory.Path}", settings.Options.Destinations["files"].Url);
    }

    [Fact]
    public void EverySourceKeyMapsOntoTheOptions()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        var (caFile, _) = directory.WriteCertificate("ca-");
        string toml = $"""
            [client]
            token = "t"

            [client.sources.secure]
            url = "https://127.0.0.1:8443/app"
            cert-file = "{certFile}"
            key-file = "{keyFile}"
            cas-file = "{caFile}"
            dial-timeout = "5s"
            lb-policy = "least-latency"
            lb-retry = "count"
            lb-retry-max = 3

            [client.sources.socket]
            url = "ws://127.0.0.1:8080"
            lb-policy = "round-robin"
            lb-retry = "timed"
            lb-retry-max = 1500

            [client.sources.a]
            url = "http://:8081"
            lb-policy = "least-conns"
            lb-retry = "all"

            [client.sources.b]
            url = "tcp://:8082"
            lb-policy = "random"
            lb-retry = "never"

            [client.sources.c]
            url = "tls://:8083"
            cert-file = "{certFile}"
            key-file = "{keyFile}"
            lb-policy = "none"
            """;

        var (settings, errors) = HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment);

        Assert.Empty(errors);
        var sources = settings!.Options.Sources;
        var secure = sources["secure"];
        Assert.Equal("https://127.0.0.1:8443/app", secure.Url);
        Assert.True(secure.Certificate!.HasPrivateKey);
        Assert.Equal(File.ReadAllText(caFile).Trim(), Assert.Single(secure.CertificateAuthorities).ExportCertificatePem().Trim());
        Assert.Equal(TimeSpan.FromSeconds(5), secure.DialTimeout);
        Assert.Equal(ConnetLoadBalancePolicy.LeastLatency, secure.LoadBalancePolicy);
        Assert.Equal(ConnetLoadBalanceRetry.Count, secure.LoadBalanceRetry);
        Assert.Equal(3, secure.LoadBalanceRetryMax);
        Assert.Equal((ConnetLoadBalancePolicy.RoundRobin, ConnetLoadBalanceRetry.Timed, 1500),
            (sources["socket"].LoadBalancePolicy, sources["socket"].LoadBalanceRetry, sources["socket"].LoadBalanceRetryMax));
        Assert.Equal((ConnetLoadBalancePolicy.LeastConnections, ConnetLoadBalanceRetry.All), (sources["a"].LoadBalancePolicy, sources["a"].LoadBalanceRetry));
        Assert.Equal((ConnetLoadBalancePolicy.Random, ConnetLoadBalanceRetry.Never), (sources["b"].LoadBalancePolicy, sources["b"].LoadBalanceRetry));
        Assert.Equal((ConnetLoadBalancePolicy.None, ConnetLoadBalanceRetry.Never, 0),
            (sources["c"].LoadBalancePolicy, sources["c"].LoadBalanceRetry, sources["c"].LoadBalanceRetryMax));
        Assert.NotNull(sources["c"].Certificate);
    }

    [Fact]
    public void LoadBalancePolicyOutsideTheListNamesFileLineAndKey()
    {
        string toml = "[client]\ntoken = \"t\"\n\n[client.sources.web]\nurl = \"tcp://:8000\"\n\n\n\nlb-policy = \"fastest\"\n";

        var (_, errors) = HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment, "client.toml");

        Assert.Equal(
            ["client.toml:9: [client.sources.web] 'lb-policy' 'fastest' is not one of \"\", none, least-latency, least-conns, round-robin, random"],
            errors);
    }

    [Fact]
    public void HandshakeIdleTimeoutMapsAndZeroKeepsTheDefault()
    {
        static TimeSpan Read(string line)
        {
            var (settings, errors) = HostTestKit.ReadSection<ClientSettings>(
                $"[client]\ntoken = \"t\"\n{line}\n[client.sources.s]\nurl = \"tcp://:1\"\n", "client", NoEnvironment);
            Assert.Empty(errors);
            return settings!.Options.HandshakeIdleTimeout;
        }

        Assert.Equal(TimeSpan.FromMinutes(1), Read("handshake-idle-timeout = \"1m\""));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Read("handshake-idle-timeout = \"1.5s\""));
        Assert.Equal(TimeSpan.FromSeconds(5), Read("handshake-idle-timeout = \"0s\""));
        Assert.Equal(TimeSpan.FromSeconds(5), Read(string.Empty));
    }

    [Fact]
    public void AbsentNatPmpRunsWithoutItAndDisabledSaysSo()
    {
        var (absent, errors) = HostTestKit.ReadSection<ClientSettings>("[client]\ntoken = \"t\"\n[client.sources.s]\nurl = \"tcp://:1\"\n", "client", NoEnvironment);
        Assert.Empty(errors);
        var (disabled, disabledErrors) = HostTestKit.ReadSection<ClientSettings>(
            "[client]\ntoken = \"t\"\nnat-pmp = \"disabled\"\n[client.sources.s]\nurl = \"tcp://:1\"\n", "client", NoEnvironment);
        Assert.Empty(disabledErrors);

        Assert.True(absent!.NatPmpDefaulted);
        Assert.False(disabled!.NatPmpDefaulted);
        Assert.Equal(ConnetNatPmp.Disabled, absent.Options.NatPmp);
        Assert.Equal(ConnetNatPmp.Disabled, disabled.Options.NatPmp);
    }

    [Theory]
    [InlineData("system", ConnetNatPmp.System)]
    [InlineData("dial", ConnetNatPmp.Dial)]
    public void NatPmpModesMapToTheClientOption(string mode, ConnetNatPmp expected)
    {
        var (settings, errors) = HostTestKit.ReadSection<ClientSettings>(
            $"[client]\ntoken = \"t\"\nnat-pmp = \"{mode}\"\n[client.sources.s]\nurl = \"tcp://:1\"\n", "client", NoEnvironment);

        Assert.Empty(errors);
        Assert.Equal(expected, settings!.Options.NatPmp);
        Assert.False(settings.NatPmpDefaulted);
    }

    [Fact]
    public void CertificateFilesAreNamedWithTheirKeyAndPath()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        var (otherCert, otherKey) = directory.WriteCertificate("other-");
        string notPem = directory.Write("not.pem", "hello\n");

        IReadOnlyList<string> Errors(string lines)
        {
            string toml = $"[client]\ntoken = \"t\"\n[client.destinations.web]\nurl = \"tls://localhost:3000\"\n{lines}\n";
            return HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment, "c.toml").Errors;
        }

        Assert.Equal(["c.toml:5: [client.destinations.web] 'cert-file' cannot read '/nonexistent/cert.pem': the file does not exist"],
            Errors($"cert-file = \"/nonexistent/cert.pem\"\nkey-file = \"{keyFile}\""));
        Assert.Equal(["c.toml:6: [client.destinations.web] 'key-file' cannot read '/nonexistent/key.pem': the file does not exist"],
            Errors($"cert-file = \"{certFile}\"\nkey-file = \"/nonexistent/key.pem\""));
        Assert.Equal(["c.toml:5: [client.destinations.web] 'cert-file' needs 'key-file' too"], Errors($"cert-file = \"{certFile}\""));

        // A certificate with the wrong key, or a key file without a key, names both files.
        string mismatch = Assert.Single(Errors($"cert-file = \"{certFile}\"\nkey-file = \"{otherKey}\""));
        Assert.StartsWith($"c.toml:5: [client.destinations.web] 'cert-file' cannot load '{certFile}' with 'key-file' '{otherKey}': ", mismatch, StringComparison.Ordinal);
        string noKey = Assert.Single(Errors($"cert-file = \"{otherCert}\"\nkey-file = \"{otherCert}\""));
        Assert.StartsWith($"c.toml:5: [client.destinations.web] 'cert-file' cannot load '{otherCert}' with 'key-file' '{otherCert}': ", noKey, StringComparison.Ordinal);

        string bundle = Assert.Single(Errors($"cas-file = \"{notPem}\""));
        Assert.Equal($"c.toml:5: [client.destinations.web] 'cas-file' '{notPem}' holds no PEM certificate", bundle);
    }

    [Fact]
    public void TheLibrarysTargetRulesAreReportedAtTheirKey()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();
        string toml = $"""
            [client]
            token = "t"
            [client.destinations.plain]
            url = "http://localhost:3000"
            proxy-proto-version = "v1"
            [client.sources.plain]
            url = "ws://:8080"
            cert-file = "{certFile}"
            key-file = "{keyFile}"
            """;

        var (_, errors) = HostTestKit.ReadSection<ClientSettings>(toml, "client", NoEnvironment, "c.toml");

        Assert.Equal(
            [
                "c.toml:5: [client.destinations.plain] 'proxy-proto-version' is refused: ProxyProtocol applies only to tcp:// and tls:// targets, not 'http://localhost:3000'.",
                "c.toml:8: [client.sources.plain] 'cert-file' is refused: Certificate and CertificateAuthorities apply to tls://, https:// and wss:// sources only, not ws://.",
            ],
            errors);
    }

    [Fact]
    public void TheNewlyMappedClientFlagsReachTheOptions()
    {
        using var directory = new TempDirectory();
        var (certFile, keyFile) = directory.WriteCertificate();

        var settings = HostTestKit.LoadClient(NoEnvironment, "--token", "t", "--handshake-idle-timeout", "30s", "--nat-pmp", "disabled",
            "--dst-name", "api", "--dst-url", "https://localhost:3000/v1", "--dst-cas-file", certFile,
            "--src-name", "web", "--src-url", "https://127.0.0.1:8443", "--src-cert-file", certFile, "--src-key-file", keyFile);

        Assert.Equal(TimeSpan.FromSeconds(30), settings.Options.HandshakeIdleTimeout);
        Assert.False(settings.NatPmpDefaulted);
        Assert.Single(settings.Options.Destinations["api"].CertificateAuthorities);
        Assert.Equal("https://localhost:3000/v1", settings.Options.Destinations["api"].Url);
        Assert.True(settings.Options.Sources["web"].Certificate!.HasPrivateKey);

        var insecure = HostTestKit.LoadClient(NoEnvironment, "--token", "t",
            "--dst-name", "api", "--dst-url", "tls://localhost:3000", "--dst-cas-file", "insecure-skip-verify");
        Assert.True(insecure.Options.Destinations["api"].InsecureSkipVerify);

        var errors = HostTestKit.ClientErrors(NoEnvironment, "--token", "t", "--handshake-idle-timeout", "soon", "--src-name", "web",
            "--src-url", "https://:8443", "--src-cert-file", certFile);
        Assert.Contains("command line (handshake-idle-timeout): [client] 'handshake-idle-timeout' 'soon' is not a duration like \"5s\", \"1m30s\" or \"250ms\"", errors);
        Assert.Contains("command line (cert-file): [client.sources.web] 'cert-file' needs 'key-file' too", errors);
    }

    [Fact]
    public void TheHostCopiesEveryClientOption()
    {
        var from = new ConnetClientOptions();
        var to = new ConnetClientOptions();
        var properties = typeof(ConnetClientOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(property => property.CanWrite).ToList();
        foreach (var property in properties)
        {
            object? value = property.PropertyType switch
            {
                var type when type == typeof(string) => "x-" + property.Name,
                var type when type == typeof(TimeSpan) => TimeSpan.FromSeconds(42),
                var type when type == typeof(byte[]) => new byte[32],
                var type when type == typeof(System.Net.IPEndPoint) => new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 4242),
                _ => Activator.CreateInstance(property.PropertyType),
            };
            property.SetValue(from, value);
        }

        ClientCommand.CopyOptions(from, to);

        // Value types are set to non-defaults above; reference types must be the very instances set.
        Assert.All(properties, property =>
        {
            if (property.PropertyType.IsValueType)
            {
                Assert.Equal(property.GetValue(from), property.GetValue(to));
            }
            else
            {
                Assert.Same(property.GetValue(from), property.GetValue(to));
            }
        });
    }
}
