using System.Net;
using System.Text;

namespace Connet.Client.Tests.Destinations;

/// <summary>
/// http(s)://host:port/path destinations end to end: an HTTP/1.1 client → tcp:// source → direct peer connection →
/// the destination's in-process Kestrel → YARP → a real HTTP(S) target.
/// </summary>
public sealed class HttpDestinationTests
{
    private static readonly System.Security.Cryptography.X509Certificates.X509Certificate2 ServerCertificate = DestinationKit.CreateServerCertificate();

    [Fact]
    public async Task Request_IsForwardedWithThePathPrefixedAndTheTargetsHost()
    {
        await using var target = await HttpTargetServer.StartAsync();
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = $"{target.Url}/base" });
        using var client = DestinationKit.HttpClientTo(source);

        using var response = await client.GetAsync(new Uri("/a/b?x=1", UriKind.Relative));
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"GET /base/a/b?x=1\nhost={target.Authority}\n", body);
    }

    [Fact]
    public async Task Requests_WithoutATargetPath_KeepTheirPath_AndBodiesArriveWhole()
    {
        await using var target = await HttpTargetServer.StartAsync();
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = target.Url });
        using var client = DestinationKit.HttpClientTo(source);
        byte[] payload = TestKit.SeededPayload(9, 200_000);

        // Several requests over one kept-alive connection, then one with a large body.
        for (int i = 0; i < 3; i++)
        {
            string answer = await client.GetStringAsync(new Uri($"/item/{i}", UriKind.Relative));
            Assert.Equal($"GET /item/{i}\nhost={target.Authority}\n", answer);
        }

        using var posted = await client.PostAsync(new Uri("/upload", UriKind.Relative), new ByteArrayContent(payload));
        byte[] echoed = await posted.Content.ReadAsByteArrayAsync();

        byte[] header = Encoding.ASCII.GetBytes($"POST /upload\nhost={target.Authority}\n");
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.True(echoed.AsSpan().StartsWith(header), "the target saw another request line or host");
        Assert.True(echoed.AsSpan(header.Length).SequenceEqual(payload), "the target received a different body");
    }

    [Fact]
    public async Task HttpsTarget_TrustedThroughCertificateAuthorities_IsForwardedTo()
    {
        await using var target = await HttpTargetServer.StartAsync(ServerCertificate);
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions
        {
            Url = $"{target.Url}/secure",
            CertificateAuthorities = [DestinationKit.PublicOnly(ServerCertificate)],
        });
        using var client = DestinationKit.HttpClientTo(source);

        string body = await client.GetStringAsync(new Uri("/x", UriKind.Relative));

        Assert.StartsWith("https://", target.Url, StringComparison.Ordinal);
        Assert.Equal($"GET /secure/x\nhost={target.Authority}\n", body);
    }

    [Fact]
    public async Task HttpsTarget_RequiringAClientCertificate_SeesOurs()
    {
        await using var target = await HttpTargetServer.StartAsync(ServerCertificate, requireClientCertificate: true);
        await using var kit = await ConnetClientKit.StartAsync();
        using var clientCertificate = DestinationKit.CreateClientCertificate("destination-client");
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions
        {
            Url = target.Url,
            CertificateAuthorities = [DestinationKit.PublicOnly(ServerCertificate)],
            Certificate = clientCertificate,
        });
        using var client = DestinationKit.HttpClientTo(source);

        string body = await client.GetStringAsync(new Uri("/m", UriKind.Relative));

        Assert.Equal($"GET /m\nhost={target.Authority}\nclient={clientCertificate.GetCertHashString()}\n", body);
    }

    [Fact]
    public async Task HttpsTarget_NotTrusted_AnswersBadGateway()
    {
        await using var target = await HttpTargetServer.StartAsync(ServerCertificate);
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = target.Url });
        using var client = DestinationKit.HttpClientTo(source);

        using var response = await client.GetAsync(new Uri("/x", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task HttpsTarget_WithInsecureSkipVerify_IsForwardedTo()
    {
        await using var target = await HttpTargetServer.StartAsync(ServerCertificate);
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = target.Url, InsecureSkipVerify = true });
        using var client = DestinationKit.HttpClientTo(source);

        string body = await client.GetStringAsync(new Uri("/y", UriKind.Relative));

        Assert.Equal($"GET /y\nhost={target.Authority}\n", body);
    }

    [Fact]
    public async Task Target_ThatIsDown_AnswersBadGateway()
    {
        await using var kit = await ConnetClientKit.StartAsync();
        IPEndPoint source = await DestinationKit.StartTunnelAsync(kit, new ConnetEndpointOptions { Url = $"http://127.0.0.1:{TestKit.ClosedPort()}" });
        using var client = DestinationKit.HttpClientTo(source);

        using var response = await client.GetAsync(new Uri("/x", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }
}
