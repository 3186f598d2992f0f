using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Connet.Client.Tests.Destinations;

/// <summary>file: destinations end to end: an HTTP/1.1 client → tcp:// source → direct peer connection → static files.</summary>
public sealed class FileDestinationTests : IDisposable
{
    private const string Secret = "the secret next to the served folder";
    private readonly string _parent = Directory.CreateTempSubdirectory("connet-files-").FullName;
    private readonly string _root;
    private readonly byte[] _content = TestKit.SeededPayload(11, 70_000);

    public FileDestinationTests()
    {
        _root = Path.Combine(_parent, "served");
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        File.WriteAllBytes(Path.Combine(_root, "sub", "data.bin"), _content);
        File.WriteAllText(Path.Combine(_root, "index.html"), "<p>index</p>");
        File.WriteAllText(Path.Combine(_parent, "secret.txt"), Secret);
    }

    public void Dispose() => Directory.Delete(_parent, recursive: true);

    [Fact]
    public async Task ExistingFile_IsServedByteForByte_AndAFolderServesItsIndex()
    {
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = new Uri(_root).AbsoluteUri });
        using var client = DestinationKit.HttpClientTo(source);

        using var response = await client.GetAsync(new Uri("/sub/data.bin", UriKind.Relative));
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        string index = await client.GetStringAsync(new Uri("/", UriKind.Relative));

        Assert.StartsWith("file:///", new Uri(_root).AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(_content.AsSpan().SequenceEqual(body), $"got {body.Length} bytes instead of the file's {_content.Length}");
        Assert.Equal("<p>index</p>", index);
    }

    [Fact]
    public async Task MissingFile_AndAFolderWithoutIndex_AreNotFound()
    {
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = new Uri(_root).AbsoluteUri });
        using var client = DestinationKit.HttpClientTo(source);

        using var missing = await client.GetAsync(new Uri("/nothing-here.txt", UriKind.Relative));
        using var listing = await client.GetAsync(new Uri("/sub/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, listing.StatusCode); // no directory browsing
    }

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/sub/../../secret.txt")]
    [InlineData("/..%2fsecret.txt")]
    [InlineData("/%2e%2e%2fsecret.txt")]
    [InlineData("/..%5csecret.txt")]
    public async Task PathTraversal_DoesNotEscapeTheRoot(string path)
    {
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = new Uri(_root).AbsoluteUri });
        using var guard = new CancellationTokenSource(TestKit.Guard);

        // Raw bytes: an HttpClient would normalise the dot segments away before sending.
        string answer = await DestinationKit.RawHttpAsync(source, $"GET {path} HTTP/1.1\r\nHost: files\r\nConnection: close\r\n\r\n", guard.Token);

        Assert.Matches(@"^HTTP/1\.1 (400|404) ", answer);
        Assert.DoesNotContain(Secret, answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppingTheDestination_EndsAnOpenHttpConnection()
    {
        await using var kit = await ConnetClientKit.StartAsync();
        var (source, destination) = await DestinationKit.StartTunnelWithDestinationAsync(kit, new ConnetEndpointOptions { Url = new Uri(_root).AbsoluteUri });
        using var guard = new CancellationTokenSource(TestKit.Guard);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, source.Port), guard.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /index.html HTTP/1.1\r\nHost: files\r\n\r\n"), guard.Token);
        byte[] first = new byte[4096];
        int read = await stream.ReadAsync(first, guard.Token);
        Assert.StartsWith("HTTP/1.1 200 ", Encoding.ASCII.GetString(first, 0, read), StringComparison.Ordinal);

        // The kept-alive connection now idles inside the destination's Kestrel; stopping must not wait for it.
        await destination.StopAsync(CancellationToken.None).WaitAsync(TestKit.Guard);
        byte[] rest = await ReadUntilClosedAsync(stream, guard.Token);

        Assert.DoesNotContain("HTTP/1.1", Encoding.ASCII.GetString(rest), StringComparison.Ordinal);
    }

    private static async Task<byte[]> ReadUntilClosedAsync(Stream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await TestKit.ReadToEndAsync(stream, cancellationToken);
        }
        catch (IOException)
        {
            return []; // Reset rather than closed: ended all the same.
        }
    }
}
