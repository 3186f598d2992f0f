using Connet.Quic.Core.Endpoint;
using Connet.Quic.Tests.Crypto;

namespace Connet.Quic.Tests.Endpoint;

public class ClientHelloPeekTests
{
    [Fact]
    public void Reads_the_server_name_from_the_RFC9001_sample_client_initial()
    {
        byte[] datagram = Hex.Bytes(Rfc9001Vectors.ClientInitialProtected);

        Assert.True(ClientHelloPeek.TryReadServerName(datagram, out string? serverName));
        Assert.Equal("example.com", serverName);
    }

    [Fact]
    public void A_damaged_packet_yields_no_name_and_never_throws()
    {
        byte[] original = Hex.Bytes(Rfc9001Vectors.ClientInitialProtected);
        var random = new Random(99);
        for (int i = 0; i < 300; i++)
        {
            byte[] datagram = (byte[])original.Clone();
            datagram[random.Next(datagram.Length)] ^= (byte)(1 + random.Next(255));
            int length = i % 3 == 0 ? random.Next(datagram.Length) : datagram.Length;

            // Every byte is either authenticated (header as AAD, payload, tag) or feeds the key (the DCID).
            Assert.False(ClientHelloPeek.TryReadServerName(datagram.AsSpan(0, length), out _));
        }
    }
}
