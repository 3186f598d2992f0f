using System.Net;
using System.Text.Json;
using Connet.Client;
using Connet.Host.Configuration;
using Connet.Host.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Connet.Host.Tests;

public sealed class StatusAndMergeTests
{
    [Fact]
    public async Task StatusServerAnswersAnyPathAndMethodWithKebabCaseJson()
    {
        var status = new ConnetClientStatus(
            ConnetClientState.Connected,
            new IPEndPoint(IPAddress.Loopback, 19192),
            null,
            [new IPEndPoint(IPAddress.Parse("192.0.2.1"), 5)],
            [new ConnetEndpointStatus("web", ConnetEndpointRole.Source, null, [], [])],
            null);
        await using var server = new StatusHttpServer(new IPEndPoint(IPAddress.Loopback, 0), () => status, NullLogger<StatusHttpServer>.Instance);
        await server.StartAsync(CancellationToken.None);
        using var http = new HttpClient();
        string baseAddress = $"http://{server.LocalEndPoint}";

        using var get = JsonDocument.Parse(await http.GetStringAsync($"{baseAddress}/"));
        using var post = await http.PostAsync($"{baseAddress}/some/path?x=1", new StringContent("ignored"));
        using var posted = JsonDocument.Parse(await post.Content.ReadAsStringAsync());

        foreach (var root in new[] { get.RootElement, posted.RootElement })
        {
            Assert.Equal("connected", root.GetProperty("state").GetString());
            Assert.Equal("127.0.0.1:19192", root.GetProperty("direct-address").GetString());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("public-address").ValueKind);
            Assert.Equal("192.0.2.1:5", root.GetProperty("advertised-addresses")[0].GetString());
            Assert.Equal("source", root.GetProperty("endpoints")[0].GetProperty("role").GetString());
        }

        Assert.Equal("application/json", post.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public void FlagsOverrideTheFirstIngressOfTheFilesAndLaterFilesMergeByIndex()
    {
        var errors = new ConfigErrors();
        var first = ConfigTree.Parse("[server]\ntokens = [\"a\"]\n[[server.ingress]]\naddr = \":1\"\ncert-file = \"c1\"\n[[server.ingress]]\naddr = \":2\"\n", "one.toml", errors)!;
        var second = ConfigTree.Parse("[server]\ntokens = [\"b\", \"c\"]\n[[server.ingress]]\nkey-file = \"k1\"\n", "two.toml", errors)!;
        var overlay = new ConnetConfig.Overlay();
        overlay.SetFirst(["server", "ingress"], "addr", "127.0.0.1:9");
        overlay.SetFirst(["server", "ingress"], "allow-cidrs", new[] { "10.0.0.0/8" });
        overlay.SetFirst(["server", "relay-ingress"], "hostports", new[] { "relay.example:1" });
        Assert.Empty(errors.Messages);

        first.Merge(second);
        first.Merge(overlay.Root);

        var server = first.Entries["server"].Table!;
        Assert.Equal(["b", "c"], server.Entries["tokens"].Items!.Select(item => (string)item.Scalar!));
        var ingresses = server.Entries["ingress"].Items!;
        Assert.Equal(2, ingresses.Count);
        var firstIngress = ingresses[0].Table!.Entries;
        Assert.Equal("127.0.0.1:9", firstIngress["addr"].Scalar);
        Assert.Equal("command line (addr)", firstIngress["addr"].Location.ToString());
        Assert.Equal("c1", firstIngress["cert-file"].Scalar);
        Assert.Equal("k1", firstIngress["key-file"].Scalar);
        Assert.Equal("two.toml:4", firstIngress["key-file"].Location.ToString());
        Assert.Equal("10.0.0.0/8", firstIngress["allow-cidrs"].Items![0].Scalar);
        Assert.Equal(":2", ingresses[1].Table!.Entries["addr"].Scalar);
        Assert.Equal("relay.example:1", server.Entries["relay-ingress"].Items![0].Table!.Entries["hostports"].Items![0].Scalar);
    }
}
