namespace Connet.Quic.Tests.Interop;

/// <summary>
/// The node client against the node server through the harness: proves the npm package, the
/// generated certificates and the process plumbing work before any test blames our stack.
/// </summary>
public sealed class NodePeerSelfTest
{
    [Fact]
    public async Task NodeClientEchoesOneMebibyteThroughNodeServer()
    {
        using var certificates = InteropCertificates.Create();
        await using var server = await NodeQuicPeer.StartEchoServerAsync(certificates);

        var result = await NodeQuicPeer.RunEchoClientAsync(server.EndPoint, certificates);

        Assert.Equal(NodeEchoClientOptions.OneMebibyte, result.Bytes);
    }

    [Fact]
    public async Task NodeClientPresentsItsCertificateToAVerifyingNodeServer()
    {
        using var certificates = InteropCertificates.Create();
        await using var server = await NodeQuicPeer.StartEchoServerAsync(certificates, new NodeEchoServerOptions { VerifyPeer = true });

        var result = await NodeQuicPeer.RunEchoClientAsync(
            server.EndPoint,
            certificates,
            new NodeEchoClientOptions { Bytes = 4096, ClientCertificate = certificates });

        Assert.Equal(4096, result.Bytes);
    }

    [Fact]
    public async Task NodeClientRejectsAServerFromAnotherAuthorityAndTheHarnessReportsWhy()
    {
        using var serverCertificates = InteropCertificates.Create();
        using var unrelatedAuthority = InteropCertificates.Create();
        await using var server = await NodeQuicPeer.StartEchoServerAsync(serverCertificates);

        var failure = await Assert.ThrowsAsync<NodePeerException>(() =>
            NodeQuicPeer.RunEchoClientAsync(server.EndPoint, unrelatedAuthority, new NodeEchoClientOptions { Bytes = 16 }));

        Assert.Contains("handshake failed", failure.Message, StringComparison.Ordinal);
        Assert.Contains("TLS", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeServerThatCannotReadItsKeyFailsWithItsStandardError()
    {
        using var certificates = InteropCertificates.Create();
        File.Delete(certificates.LeafKeyPemPath);

        var failure = await Assert.ThrowsAsync<NodePeerException>(() => NodeQuicPeer.StartEchoServerAsync(certificates));

        Assert.Contains("exited before listening", failure.Message, StringComparison.Ordinal);
        Assert.Contains("key.pem", failure.Message, StringComparison.Ordinal);
    }
}
