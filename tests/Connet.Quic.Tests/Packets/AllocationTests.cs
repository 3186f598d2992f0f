using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Packets;

namespace Connet.Quic.Tests.Packets;

/// <summary>The per-packet path (protect, parse, unprotect) must not allocate: it runs for every datagram.</summary>
public class AllocationTests
{
    [Theory]
    [InlineData((ushort)CipherSuite.Aes128GcmSha256)]
    [InlineData((ushort)CipherSuite.Aes256GcmSha384)]
    [InlineData((ushort)CipherSuite.ChaCha20Poly1305Sha256)]
    public void Protect_and_unprotect_allocate_nothing(ushort suiteCode)
    {
        var suite = (CipherSuite)suiteCode;
        byte[] secret = new byte[suite.HashLength()];
        using IPacketKey key = QuicKeys.CreatePacketKey(suite, secret);
        using IHeaderKey hp = QuicKeys.CreateHeaderKey(suite, secret);
        byte[] datagram = new byte[1200];

        RoundTrip(datagram, key, hp, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong pn = 2; pn < 100; pn++)
        {
            RoundTrip(datagram, key, hp, pn);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void RoundTrip(byte[] datagram, IPacketKey key, IHeaderKey hp, ulong packetNumber)
    {
        int headerLength = PacketWriter.WriteShortHeader(datagram, false, false, [1, 2, 3, 4, 5, 6, 7, 8], packetNumber, 2, out int pnOffset);
        datagram.AsSpan(headerLength, 1000).Fill(0x01);
        int length = PacketWriter.Protect(datagram, pnOffset, 2, packetNumber, 1000, key, hp);

        if (!PacketParser.TryParse(datagram.AsSpan(0, length), 8, out PacketHeader header))
        {
            throw new InvalidOperationException("parse failed");
        }

        Span<byte> packet = datagram.AsSpan(0, header.PacketLength);
        HeaderProtection.Remove(packet, header.PacketNumberOffset, hp, out int pnLength, out uint truncated);
        ulong decoded = PacketNumberCoding.Decode(packetNumber - 1, truncated, pnLength);
        int payloadOffset = header.PayloadOffset(pnLength);
        if (!key.TryOpen(decoded, packet[..payloadOffset], packet[payloadOffset..^16], packet[^16..]))
        {
            throw new InvalidOperationException("open failed");
        }
    }
}
