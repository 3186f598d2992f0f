using System.Net;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Quic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Connet.Relay.Tests;

public sealed class RelayServerOptionsTests
{
    [Fact]
    public void Defaults_follow_go_connet()
    {
        var options = new RelayServerOptions();
        var ingress = new RelayIngress();

        Assert.Equal("localhost:19189", options.ControlAddress);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HandshakeIdleTimeout);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 19191), ingress.Address);
        Assert.Empty(ingress.Hostports);
    }

    [Fact]
    public void Validate_reports_every_problem_at_once()
    {
        var options = new RelayServerOptions
        {
            Token = " ",
            ControlAddress = "no-port",
            ControlServerName = " ",
            HandshakeIdleTimeout = TimeSpan.Zero,
            StoreDirectory = " ",
            Ingresses =
            [
                new RelayIngress { Hostports = ["relay.example", "::1:80", "ok.example:19191"], AllowCidrs = ["10.0.0.0/33"] },
                null!,
            ],
        };

        var errors = options.Validate();

        Assert.Contains(errors, error => error.Contains("Token", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("ControlAddress 'no-port'", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("ControlServerName", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("HandshakeIdleTimeout", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("StoreDirectory", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("'relay.example' is not host:port", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("'::1:80' is not host:port", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("10.0.0.0/33", StringComparison.Ordinal));
        Assert.Contains(errors, error => error.Contains("Ingresses[1] is null", StringComparison.Ordinal));
        Assert.Equal(9, errors.Count);
    }

    [Fact]
    public void Validate_requires_an_ingress_and_bounds_the_hostports()
    {
        Assert.Contains("At least one ingress is required.", new RelayServerOptions { Token = "t" }.Validate());

        var crowded = new RelayServerOptions
        {
            Token = "t",
            Ingresses = [new RelayIngress { Hostports = [.. Enumerable.Range(1, 17).Select(port => $"relay.example:{port}")] }],
        };
        Assert.Contains(crowded.Validate(), error => error.Contains("17 hostports", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_with_invalid_options_throws_listing_the_errors()
    {
        await using var relay = new RelayServer(new RelayServerOptions());

        var invalid = await Assert.ThrowsAsync<OptionsValidationException>(() => relay.StartAsync(CancellationToken.None));

        Assert.Contains("Token is required.", invalid.Failures);
        Assert.Contains("At least one ingress is required.", invalid.Failures);
    }

    [Fact]
    public async Task AddConnetRelayServer_registers_a_hosted_relay_that_authenticates()
    {
        await using var control = new FakeControl();
        var services = new ServiceCollection();
        services.AddConnetRelayServer(options =>
        {
            var configured = RelayTestKit.Options(control);
            options.Token = configured.Token;
            options.Ingresses = configured.Ingresses;
            options.ControlAddress = configured.ControlAddress;
            options.ControlServerName = configured.ControlServerName;
            options.ControlCertificateAuthorities = configured.ControlCertificateAuthorities;
        });
        await using var provider = services.BuildServiceProvider();

        var hosted = Assert.Single(provider.GetServices<IHostedService>());
        var relay = provider.GetRequiredService<RelayServer>();
        Assert.Same(relay, hosted);
        await hosted.StartAsync(CancellationToken.None).WaitAsync(RelayTestKit.Guard);
        Assert.Equal(RelayControlState.Connected, relay.GetStatus().ControlState);
        await hosted.StopAsync(CancellationToken.None).WaitAsync(RelayTestKit.Guard);
    }

    [Fact]
    public void AddConnetRelayServer_validates_options_with_every_error()
    {
        var services = new ServiceCollection();
        services.AddConnetRelayServer(_ => { });
        using var provider = services.BuildServiceProvider();

        var invalid = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RelayServerOptions>>().Value);

        Assert.Contains("Token is required.", invalid.Failures);
        Assert.Contains("At least one ingress is required.", invalid.Failures);
    }

    [Fact]
    public async Task Ingress_deny_cidr_refuses_clients_before_the_handshake()
    {
        await using var control = new FakeControl();
        var options = RelayTestKit.Options(control);
        options.Ingresses[0].DenyCidrs = ["127.0.0.0/8"];
        await using var relay = await RelayTestKit.StartRelayAsync(control, options);

        // The relay still reaches control from that ingress: the restriction applies to clients only.
        Assert.Equal(RelayControlState.Connected, relay.GetStatus().ControlState);
        await Assert.ThrowsAsync<QuicException>(() => FakeRelayClient.ConnectAsync(relay, handshakeTimeout: TimeSpan.FromSeconds(1)));
    }
}
