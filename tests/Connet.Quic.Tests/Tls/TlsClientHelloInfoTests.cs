using Connet.Quic.Core.Tls;

namespace Connet.Quic.Tests.Tls;

public class TlsClientHelloInfoTests
{
    [Fact]
    public void Peeks_sni_and_alpn_from_a_complete_client_hello()
    {
        byte[] hello = ClientHelloEditor.RealClientHello(TlsPair.ClientConfig(targetHost: "relay.example", alpn: ["connet-relay", "h3"]));

        Assert.True(TlsClientHelloInfo.TryParse(hello, out string? serverName, out List<string> alpn));
        Assert.Equal("relay.example", serverName);
        Assert.Equal(["connet-relay", "h3"], alpn);
    }

    [Fact]
    public void Incomplete_or_malformed_data_is_not_a_client_hello()
    {
        byte[] hello = ClientHelloEditor.RealClientHello();

        Assert.False(TlsClientHelloInfo.TryParse(hello.AsSpan(0, hello.Length - 1), out _, out _));
        Assert.False(TlsClientHelloInfo.TryParse([2, .. hello.AsSpan(1)], out _, out _));
        Assert.False(TlsClientHelloInfo.TryParse([1, 0, 0, 2, 3, 3], out _, out _));
    }
}
