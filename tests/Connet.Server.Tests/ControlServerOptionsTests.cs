using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Server.Control;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Connet.Server.Tests;

public sealed class ControlServerOptionsTests
{
    [Fact]
    public void ValidOptions_HaveNoErrors()
    {
        Assert.Empty(ControlServerOptionsValidator.Validate(ControlTestKit.Options()));
    }

    [Fact]
    public void EmptyOptions_NameBothMissingLists()
    {
        var errors = ControlServerOptionsValidator.Validate(new ControlServerOptions());

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, error => error.StartsWith("ClientIngresses:", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.StartsWith("Tokens:", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryProblem_IsReportedWithItsProperty()
    {
        using var withoutKey = X509CertificateLoader.LoadCertificate(ControlTestKit.ServerCertificate.RawData);
        var options = new ControlServerOptions
        {
            ClientIngresses =
            [
                new ControlClientIngress { Certificate = null, AllowCidrs = ["10.0.0.0/33"] },
                new ControlClientIngress { Certificate = withoutKey, DenyCidrs = ["not-a-cidr"] },
            ],
            Tokens =
            [
                new ControlClientToken { Token = "" },
                new ControlClientToken { Token = "a", Restriction = new ControlTokenRestriction { NameMatches = "(", RoleMatches = "both" } },
                new ControlClientToken { Token = "a" },
            ],
            EndpointExpiry = TimeSpan.FromSeconds(-1),
        };

        var errors = ControlServerOptionsValidator.Validate(options);

        string[] expectedPrefixes =
        [
            "ClientIngresses[0].Certificate:",
            "ClientIngresses[0].AllowCidrs[0]:",
            "ClientIngresses[1].Certificate:",
            "ClientIngresses[1].DenyCidrs[0]:",
            "Tokens[0].Token:",
            "Tokens[1].Restriction.NameMatches:",
            "Tokens[1].Restriction.RoleMatches:",
            "Tokens[2].Token:",
            "EndpointExpiry:",
        ];
        Assert.Equal(expectedPrefixes.Length, errors.Count);
        foreach (var prefix in expectedPrefixes)
        {
            Assert.Contains(errors, error => error.StartsWith(prefix, StringComparison.Ordinal));
        }

        // A duplicate token is reported without echoing the secret.
        Assert.DoesNotContain(errors, error => error.Contains("\"a\"", StringComparison.Ordinal));
    }

    [Fact]
    public void RelayOptions_EveryProblemIsReportedWithItsProperty()
    {
        using var withoutKey = X509CertificateLoader.LoadCertificate(ControlTestKit.ServerCertificate.RawData);
        var options = ControlTestKit.Options();
        options.RelayIngresses =
        [
            new ControlRelayIngress { Certificate = null, AllowCidrs = ["10.0.0.0/33"] },
            new ControlRelayIngress { Certificate = withoutKey, DenyCidrs = ["not-a-cidr"] },
        ];

        var withoutTokens = ControlServerOptionsValidator.Validate(options);

        string[] expectedPrefixes =
        [
            "RelayIngresses[0].Certificate:",
            "RelayIngresses[0].AllowCidrs[0]:",
            "RelayIngresses[1].Certificate:",
            "RelayIngresses[1].DenyCidrs[0]:",
            "RelayTokens:",
        ];
        Assert.Equal(expectedPrefixes.Length, withoutTokens.Count);
        foreach (var prefix in expectedPrefixes)
        {
            Assert.Contains(withoutTokens, error => error.StartsWith(prefix, StringComparison.Ordinal));
        }

        options.RelayIngresses = [new ControlRelayIngress { Certificate = ControlTestKit.ServerCertificate }];
        options.RelayTokens =
        [
            new ControlRelayToken { Token = "" },
            new ControlRelayToken { Token = "r", DenyCidrs = ["300.0.0.0/8"] },
            new ControlRelayToken { Token = "r" },
        ];
        var tokenErrors = ControlServerOptionsValidator.Validate(options);
        Assert.Equal(3, tokenErrors.Count);
        Assert.Contains(tokenErrors, error => error.StartsWith("RelayTokens[0].Token:", StringComparison.Ordinal));
        Assert.Contains(tokenErrors, error => error.StartsWith("RelayTokens[1].DenyCidrs[0]:", StringComparison.Ordinal));
        Assert.Contains(tokenErrors, error => error.StartsWith("RelayTokens[2].Token:", StringComparison.Ordinal));
    }

    [Fact]
    public void RelayIngress_DefaultsToPort19189()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Any, 19189), new ControlRelayIngress().Address);
        Assert.Empty(ControlServerOptionsValidator.Validate(ControlTestRelay.Options()));
    }

    [Fact]
    public void Constructor_RejectsInvalidOptionsWithAllErrors()
    {
        var invalid = Assert.Throws<OptionsValidationException>(() => new ControlServer(new ControlServerOptions()));
        Assert.Equal(2, invalid.Failures.Count());
    }

    [Fact]
    public async Task AddConnetControlServer_RegistersTheHostedServiceOnce()
    {
        var services = new ServiceCollection();
        services.AddConnetControlServer(options =>
        {
            options.ClientIngresses.Add(new ControlClientIngress { Address = new IPEndPoint(IPAddress.Loopback, 0), Certificate = ControlTestKit.ServerCertificate });
            options.Tokens.Add(new ControlClientToken { Token = ControlTestKit.GoodToken });
        });
        services.AddConnetControlServer(_ => { });
        await using var provider = services.BuildServiceProvider();

        var hosted = Assert.Single(provider.GetServices<IHostedService>());
        Assert.Same(provider.GetRequiredService<ControlServer>(), hosted);
        Assert.IsType<InMemoryControlStore>(provider.GetRequiredService<IControlStore>());
        Assert.Same(TimeProvider.System, provider.GetRequiredService<IOptions<ControlServerOptions>>().Value.TimeProvider);

        await hosted.StartAsync(CancellationToken.None).WaitAsync(ControlTestKit.Guard);
        var (client, response) = await ControlTestClient.ConnectAndAuthenticateAsync(provider.GetRequiredService<ControlServer>().ClientIngressEndPoints[0]);
        await using var disposeClient = client;
        Assert.Null(response.Error);
        await hosted.StopAsync(CancellationToken.None).WaitAsync(ControlTestKit.Guard);
    }

    [Fact]
    public async Task AddConnetControlServer_ServesRelaysFromTheOptions()
    {
        var services = new ServiceCollection();
        services.AddConnetControlServer(options =>
        {
            var configured = ControlTestRelay.Options();
            options.ClientIngresses = configured.ClientIngresses;
            options.Tokens = configured.Tokens;
            options.RelayIngresses = configured.RelayIngresses;
            options.RelayTokens = configured.RelayTokens;
        });
        await using var provider = services.BuildServiceProvider();
        var server = provider.GetRequiredService<ControlServer>();
        await server.StartAsync(CancellationToken.None).WaitAsync(ControlTestKit.Guard);

        var (relay, response) = await ControlTestRelay.ConnectAndAuthenticateAsync(server.RelayIngressEndPoints[0]);
        await using var disposeRelay = relay;
        Assert.Null(response.Error);
        Assert.Single(server.GetStatus().Relays);
        await server.StopAsync(CancellationToken.None).WaitAsync(ControlTestKit.Guard);
    }

    [Fact]
    public void AddConnetControlServer_ValidatesOnStart()
    {
        var services = new ServiceCollection();
        services.AddConnetControlServer(options => options.EndpointExpiry = TimeSpan.FromSeconds(-5));
        using var provider = services.BuildServiceProvider();

        var invalid = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(invalid.Failures, failure => failure.StartsWith("EndpointExpiry:", StringComparison.Ordinal));
        Assert.Contains(invalid.Failures, failure => failure.StartsWith("Tokens:", StringComparison.Ordinal));
    }
}
