using System.Security.Cryptography.X509Certificates;

namespace Connet.Client.Tests.Sources;

public sealed class SourceValidationTests
{
    private static X509Certificate2 WithKey { get; } = ConnetClientKit.CreateSelfSigned("source.test");

    [Theory]
    [InlineData("tcp://:1")]
    [InlineData("http://:1/api")]
    [InlineData("ws://127.0.0.1:1")]
    public void Plain_schemes_are_valid_without_certificates(string url)
    {
        Assert.Empty(Validate(new ConnetEndpointOptions { Url = url }));
    }

    [Theory]
    [InlineData("tls://:1")]
    [InlineData("https://:1")]
    [InlineData("wss://:1")]
    public void Tls_schemes_need_a_certificate(string url)
    {
        string scheme = url[..url.IndexOf(':', StringComparison.Ordinal)];

        Assert.Equal([$"Sources[svc].Certificate is required: a {scheme}:// source is a TLS server and needs its certificate."], Validate(new ConnetEndpointOptions { Url = url }));
        Assert.Empty(Validate(new ConnetEndpointOptions { Url = url, Certificate = WithKey, CertificateAuthorities = [WithKey] }));
    }

    [Fact]
    public void A_certificate_without_its_private_key_is_refused()
    {
        using var publicOnly = X509CertificateLoader.LoadCertificate(WithKey.RawData);

        Assert.Equal(["Sources[svc].Certificate has no private key; a TLS server needs it."], Validate(new ConnetEndpointOptions { Url = "tls://:1", Certificate = publicOnly }));
    }

    [Fact]
    public void Certificates_on_a_plain_source_are_refused()
    {
        Assert.Equal(
            ["Sources[svc]: Certificate and CertificateAuthorities apply to tls://, https:// and wss:// sources only, not tcp://."],
            Validate(new ConnetEndpointOptions { Url = "tcp://:1", CertificateAuthorities = [WithKey] }));
    }

    [Fact]
    public void Unknown_scheme_is_named()
    {
        Assert.Equal(
            ["Sources[svc].Url: 'file:./x' is not a source URL (tcp://, tls://, http://, https://, ws:// or wss://)."],
            Validate(new ConnetEndpointOptions { Url = "file:./x" }));
    }

    [Fact]
    public void Load_balancing_values_are_checked_all_at_once()
    {
        var errors = Validate(new ConnetEndpointOptions
        {
            Url = "tcp://:1",
            LoadBalancePolicy = (ConnetLoadBalancePolicy)42,
            LoadBalanceRetry = (ConnetLoadBalanceRetry)7,
            LoadBalanceRetryMax = -1,
        });

        Assert.Equal(
            [
                "Sources[svc].LoadBalancePolicy: 42 is not a load-balancing policy.",
                "Sources[svc].LoadBalanceRetry: 7 is not a retry mode.",
                "Sources[svc].LoadBalanceRetryMax must not be negative (0 uses the default: 2 attempts for Count, 1000 ms for Timed).",
            ],
            errors);
    }

    [Fact]
    public void Retry_max_without_count_or_timed_is_refused()
    {
        Assert.Equal(
            ["Sources[svc].LoadBalanceRetryMax applies only when LoadBalanceRetry is Count or Timed."],
            Validate(new ConnetEndpointOptions { Url = "tcp://:1", LoadBalanceRetry = ConnetLoadBalanceRetry.All, LoadBalanceRetryMax = 3 }));
        Assert.Empty(Validate(new ConnetEndpointOptions
        {
            Url = "tcp://:1",
            LoadBalancePolicy = ConnetLoadBalancePolicy.RoundRobin,
            LoadBalanceRetry = ConnetLoadBalanceRetry.Timed,
            LoadBalanceRetryMax = 500,
        }));
    }

    [Fact]
    public void Proxy_protocol_is_a_destination_setting_and_now_supported_there()
    {
        var options = new ConnetClientOptions { Token = "t" };
        options.Sources["svc"] = new ConnetEndpointOptions { Url = "tcp://:1", ProxyProtocol = ConnetProxyProtocol.V1 };
        options.Destinations["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:2", ProxyProtocol = ConnetProxyProtocol.V2 };
        options.Destinations["bad"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:2", ProxyProtocol = (ConnetProxyProtocol)9 };

        Assert.Equal(
            [
                "Destinations[bad].ProxyProtocol: 9 is not a PROXY protocol version.",
                "Sources[svc].ProxyProtocol is a destination setting; the source writes whatever header the destination asks for.",
            ],
            options.Validate());
    }

    private static IReadOnlyList<string> Validate(ConnetEndpointOptions source)
    {
        var options = new ConnetClientOptions { Token = "t" };
        options.Sources["svc"] = source;
        return options.Validate();
    }
}
