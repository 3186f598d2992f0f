using Connet.Client.Tunnels.Sources;

namespace Connet.Client.Tests.Sources;

public sealed class SourceUrlTests
{
    [Theory]
    [InlineData("tcp://127.0.0.1:8000", "Tcp", "127.0.0.1", 8000, "")]
    [InlineData("tls://:8003", "Tls", "", 8003, "")]
    [InlineData("http://:8080/path", "Http", "", 8080, "/path")]
    [InlineData("HTTPS://localhost:8443/a/b/", "Https", "localhost", 8443, "/a/b")]
    [InlineData("ws://127.0.0.1:8080", "Ws", "127.0.0.1", 8080, "")]
    [InlineData("wss://[::1]:8083/", "Wss", "::1", 8083, "")]
    public void Parses_every_source_scheme(string url, string scheme, string host, int port, string path)
    {
        Assert.Equal(new SourceUrl(Enum.Parse<SourceScheme>(scheme), host, port, path), SourceUrl.Parse(url));
    }

    [Theory]
    [InlineData("udp://:1", "is not a source URL")]
    [InlineData("file:///srv", "is not a source URL")]
    [InlineData("http://localhost", "has no valid port")]
    [InlineData("tcp://:99999", "has no valid port")]
    [InlineData("tcp://[::1]", "has no valid port")]
    [InlineData("tls://:1/path", "only http(s):// and ws(s):// sources take")]
    [InlineData("http://:1/path?x=1", "query or fragment")]
    public void Refuses_what_is_no_source_url(string url, string problem)
    {
        var exception = Assert.Throws<FormatException>(() => SourceUrl.Parse(url));
        Assert.Contains(problem, exception.Message, StringComparison.Ordinal);
    }
}
