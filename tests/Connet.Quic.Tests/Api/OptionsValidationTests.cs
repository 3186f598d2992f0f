using System.Net;
using System.Net.Security;

namespace Connet.Quic.Tests.Api;

public class OptionsValidationTests
{
    private static QuicClientConnectionOptions ValidClient() => new()
    {
        RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, 4433),
        ClientAuthenticationOptions = new SslClientAuthenticationOptions { ApplicationProtocols = [new SslApplicationProtocol("test")] },
        DefaultCloseErrorCode = 0,
        DefaultStreamErrorCode = 0,
    };

    [Fact]
    public void Valid_client_options_pass() => ValidClient().Validate("options");

    [Theory]
    [InlineData(nameof(QuicConnectionOptions.DefaultCloseErrorCode))]
    [InlineData(nameof(QuicConnectionOptions.DefaultStreamErrorCode))]
    public void Unset_mandatory_error_code_names_the_property(string property)
    {
        QuicClientConnectionOptions options = ValidClient();
        if (property == nameof(QuicConnectionOptions.DefaultCloseErrorCode))
        {
            options.DefaultCloseErrorCode = -1;
        }
        else
        {
            options.DefaultStreamErrorCode = 1L << 62;
        }

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => options.Validate("options"));
        Assert.Equal("options", exception.ParamName);
        Assert.Contains($"'{property}'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_remote_endpoint_and_alpn_are_reported_by_name()
    {
        QuicClientConnectionOptions noRemote = ValidClient();
        noRemote.RemoteEndPoint = null!;
        Assert.Contains("'RemoteEndPoint'", Assert.Throws<ArgumentNullException>(() => noRemote.Validate("options")).Message, StringComparison.Ordinal);

        QuicClientConnectionOptions noAlpn = ValidClient();
        noAlpn.ClientAuthenticationOptions.ApplicationProtocols = [];
        Assert.Contains("ApplicationProtocols", Assert.Throws<ArgumentNullException>(() => noAlpn.Validate("options")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_limits_timeouts_windows_and_groups_are_range_checked()
    {
        QuicClientConnectionOptions streams = ValidClient();
        streams.MaxInboundBidirectionalStreams = -1;
        Assert.Contains("'MaxInboundBidirectionalStreams'", Assert.Throws<ArgumentOutOfRangeException>(() => streams.Validate("o")).Message, StringComparison.Ordinal);

        QuicClientConnectionOptions idle = ValidClient();
        idle.IdleTimeout = TimeSpan.FromSeconds(-2);
        Assert.Contains("'IdleTimeout'", Assert.Throws<ArgumentOutOfRangeException>(() => idle.Validate("o")).Message, StringComparison.Ordinal);

        QuicClientConnectionOptions window = ValidClient();
        window.InitialReceiveWindowSizes.Stream = window.InitialReceiveWindowSizes.Connection + 1;
        Assert.Contains("InitialReceiveWindowSizes.Stream", Assert.Throws<ArgumentOutOfRangeException>(() => window.Validate("o")).Message, StringComparison.Ordinal);

        QuicClientConnectionOptions groups = ValidClient();
        groups.KeyExchangeGroups = [QuicKeyExchangeGroup.X25519, QuicKeyExchangeGroup.X25519];
        Assert.Contains("'KeyExchangeGroups'", Assert.Throws<ArgumentException>(() => groups.Validate("o")).Message, StringComparison.Ordinal);

        groups.KeyExchangeGroups = [];
        Assert.Throws<ArgumentException>(() => groups.Validate("o"));
    }

    [Fact]
    public void Server_options_need_authentication_options()
    {
        var options = new QuicServerConnectionOptions { DefaultCloseErrorCode = 0, DefaultStreamErrorCode = 0 };

        Assert.Contains("'ServerAuthenticationOptions'", Assert.Throws<ArgumentNullException>(() => options.Validate("options")).Message, StringComparison.Ordinal);
        Assert.Equal(100, options.MaxInboundBidirectionalStreams);
    }

    [Fact]
    public void Endpoint_options_check_connection_id_length_and_reset_key()
    {
        var cidLength = new QuicEndpointOptions { ConnectionIdLength = 3 };
        Assert.Contains("'ConnectionIdLength'", Assert.Throws<ArgumentOutOfRangeException>(() => QuicEndpoint.Bind(cidLength)).Message, StringComparison.Ordinal);

        var key = new QuicEndpointOptions { StatelessResetKey = new byte[16] };
        var exception = Assert.Throws<ArgumentException>(() => QuicEndpoint.Bind(key));
        Assert.Contains("'StatelessResetKey'", exception.Message, StringComparison.Ordinal);
        Assert.Equal("options", exception.ParamName);
    }

    [Fact]
    public async Task Listener_options_need_callback_protocols_and_a_positive_backlog()
    {
        var options = new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [new SslApplicationProtocol("test")],
        };
        var missing = await Assert.ThrowsAsync<ArgumentNullException>(() => QuicListener.ListenAsync(options).AsTask());
        Assert.Contains("'ConnectionOptionsCallback'", missing.Message, StringComparison.Ordinal);

        options.ConnectionOptionsCallback = (_, _, _) => ValueTask.FromResult(new QuicServerConnectionOptions());
        options.ListenBacklog = 0;
        var backlog = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => QuicListener.ListenAsync(options).AsTask());
        Assert.Contains("'ListenBacklog'", backlog.Message, StringComparison.Ordinal);
    }
}
