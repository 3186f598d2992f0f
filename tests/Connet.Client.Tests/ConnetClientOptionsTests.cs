using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Connet.Client.Tests;

public sealed class ConnetClientOptionsTests
{
    private static ConnetClientOptions Valid() => new()
    {
        Token = "token",
        Sources = { ["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0" } },
    };

    [Fact]
    public void Defaults_MatchGoConnet()
    {
        var options = new ConnetClientOptions();

        Assert.Equal("127.0.0.1:19190", options.ServerAddress);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 19192), options.DirectAddress);
        Assert.Equal(ConnetRoute.Any, new ConnetEndpointOptions().Route);
    }

    [Fact]
    public void ValidOptions_HaveNoErrors() => Assert.Empty(Valid().Validate());

    [Fact]
    public void Validate_CollectsEveryError()
    {
        var options = new ConnetClientOptions
        {
            Token = " ",
            ServerAddress = "no-port",
            Destinations = { ["web"] = new ConnetEndpointOptions { Url = "ftp://example:80" } },
            RelayEncryptions = [],
            Sources = { ["db"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:5432", Route = ConnetRoute.Relay, RelayEncryptions = [ConnetRelayEncryption.Tls, ConnetRelayEncryption.Tls] } },
        };

        var errors = options.Validate();

        Assert.Equal(5, errors.Count);
        Assert.Contains(errors, error => error.Contains("Token", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("ServerAddress", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("Destinations[web].Url", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.StartsWith("RelayEncryptions must list at least one", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("Sources[db].RelayEncryptions lists Tls more than once", StringComparison.Ordinal));
    }

    [Fact]
    public void RelayRoute_AndEveryEncryption_AreValid()
    {
        var options = Valid();
        options.RelayEncryptions = [ConnetRelayEncryption.Dhxcp, ConnetRelayEncryption.None];
        options.Sources["svc"].Route = ConnetRoute.Relay;
        options.Sources["svc"].RelayEncryptions = [ConnetRelayEncryption.Tls, ConnetRelayEncryption.Dhxcp, ConnetRelayEncryption.None];

        Assert.Empty(options.Validate());
    }

    [Fact]
    public void EmptyEndpointEncryptions_OrAnUndefinedOne_AreErrors()
    {
        var options = Valid();
        options.Sources["svc"].RelayEncryptions = [];
        options.Sources["other"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0", RelayEncryptions = [(ConnetRelayEncryption)7] };

        var errors = options.Validate();

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, error => error.StartsWith("Sources[svc].RelayEncryptions must list at least one", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("Sources[other].RelayEncryptions: 7 is not a relay encryption", StringComparison.Ordinal));
    }

    [Fact]
    public void DefaultRelayEncryption_IsNone() => Assert.Equal([ConnetRelayEncryption.None], new ConnetClientOptions().RelayEncryptions);

    [Fact]
    public void NoEndpoints_IsAnError()
    {
        var errors = new ConnetClientOptions { Token = "token" }.Validate();

        Assert.Contains("At least one destination or source", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:0")]
    [InlineData(":19190")]
    [InlineData("host:70000")]
    public void BadServerAddress_IsAnError(string address)
    {
        var options = Valid();
        options.ServerAddress = address;

        Assert.Contains("ServerAddress", Assert.Single(options.Validate()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_WithInvalidOptions_ThrowsWithEveryError()
    {
        var options = Valid();
        options.Token = string.Empty;
        options.Sources["svc"].RelayEncryptions = [];
        await using var client = new ConnetClient(options);

        var invalid = await Assert.ThrowsAsync<OptionsValidationException>(() => client.StartAsync(CancellationToken.None));

        Assert.Equal(2, invalid.Failures.Count());
        Assert.Equal(ConnetClientState.NotStarted, client.GetStatus().State);
    }

    [Fact]
    public async Task AddConnetClient_RegistersOneClientAsHostedService()
    {
        var services = new ServiceCollection();
        services.AddConnetClient(options =>
        {
            options.Token = "token";
            options.Sources["svc"] = new ConnetEndpointOptions { Url = "tcp://127.0.0.1:0" };
        });
        services.AddConnetClient(_ => { });
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<ConnetClient>();
        Assert.Same(client, Assert.Single(provider.GetServices<IHostedService>()));
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task AddConnetClient_ValidatesOptions()
    {
        var services = new ServiceCollection();
        services.AddConnetClient(options => options.Sources["svc"] = new ConnetEndpointOptions { Url = "udp://x:1" });
        await using var provider = services.BuildServiceProvider();

        var invalid = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ConnetClient>());

        Assert.Equal(2, invalid.Failures.Count());
    }
}
