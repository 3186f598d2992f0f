using System.Net.Security;
using System.Text;
using Connet.Core.Protocol;

namespace Connet.Core.Tests.Protocol;

public class ConnetAlpnsTests
{
    [Theory]
    [InlineData(ConnetConnectionKind.ClientToControl, "connet-control/0.4", "connet-client/0.3", 19190)]
    [InlineData(ConnetConnectionKind.RelayToControl, "connet-control-relays/0.4", "connet-relay/0.3", 19189)]
    [InlineData(ConnetConnectionKind.ClientToRelay, "connet-relay/0.3", "connet-peer-relay/0.2", 19191)]
    [InlineData(ConnetConnectionKind.PeerToPeer, "connet-peer/0.2", "connet-peer/0.1", 19192)]
    public void Each_kind_offers_the_new_alpn_then_the_legacy_one(ConnetConnectionKind kind, string current, string legacy, int port)
    {
        Assert.Equal([new ConnetAlpn(current, WireVersion.Current), new ConnetAlpn(legacy, WireVersion.Legacy)], ConnetAlpns.For(kind));
        Assert.Equal([new SslApplicationProtocol(current), new SslApplicationProtocol(legacy)], ConnetAlpns.ApplicationProtocols(kind));
        Assert.Equal(port, ConnetAlpns.DefaultPort(kind));
        Assert.Equal(WireVersion.Current, ConnetAlpns.GetWireVersion(kind, new SslApplicationProtocol(current)));
        Assert.Equal(WireVersion.Legacy, ConnetAlpns.GetWireVersion(kind, new SslApplicationProtocol(legacy)));
    }

    [Fact]
    public void Connet_relay_0_3_means_a_different_wire_version_per_connection_kind()
    {
        var alpn = Encoding.ASCII.GetBytes("connet-relay/0.3");

        Assert.True(ConnetAlpns.TryGetWireVersion(ConnetConnectionKind.ClientToRelay, alpn, out var clientToRelay));
        Assert.True(ConnetAlpns.TryGetWireVersion(ConnetConnectionKind.RelayToControl, alpn, out var relayToControl));

        Assert.Equal(WireVersion.Current, clientToRelay);
        Assert.Equal(WireVersion.Legacy, relayToControl);
        Assert.Equal(4, MessageFraming.PrefixLength(clientToRelay));
        Assert.Equal(8, MessageFraming.PrefixLength(relayToControl));
    }

    [Fact]
    public void An_alpn_of_another_kind_is_not_accepted()
    {
        Assert.False(ConnetAlpns.TryGetWireVersion(ConnetConnectionKind.PeerToPeer, "connet-control/0.4"u8, out _));

        var error = Assert.Throws<ConnetProtocolException>(() => ConnetAlpns.GetWireVersion(ConnetConnectionKind.ClientToControl, SslApplicationProtocol.Http3));
        Assert.Contains("\"h3\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(ConnetConnectionKind.ClientToControl), error.Message, StringComparison.Ordinal);
    }
}
