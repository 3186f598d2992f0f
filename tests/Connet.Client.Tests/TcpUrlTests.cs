using Connet.Client.Tunnels;

namespace Connet.Client.Tests;

public sealed class TcpUrlTests
{
    [Theory]
    [InlineData("tcp://127.0.0.1:3000", "127.0.0.1", 3000)]
    [InlineData("tcp://localhost:80/", "localhost", 80)]
    [InlineData("tcp://[::1]:19192", "::1", 19192)]
    [InlineData("tcp://:3000", "", 3000)]
    [InlineData("TCP://example.com:0", "example.com", 0)]
    public void Parses_host_and_port(string url, string host, int port)
    {
        TcpUrl parsed = TcpUrl.Parse(url);

        Assert.Equal(host, parsed.Host);
        Assert.Equal(port, parsed.Port);
    }

    [Theory]
    [InlineData("http://127.0.0.1:3000")]
    [InlineData("tcp://127.0.0.1")]
    [InlineData("tcp://127.0.0.1:70000")]
    [InlineData("tcp://127.0.0.1:-1")]
    public void Rejects_what_is_not_a_tcp_host_port_url(string url)
    {
        Assert.Throws<FormatException>(() => TcpUrl.Parse(url));
    }

    [Fact]
    public void Formats_ipv6_hosts_in_brackets()
    {
        Assert.Equal("tcp://[::1]:5", new TcpUrl("::1", 5).ToString());
    }
}
