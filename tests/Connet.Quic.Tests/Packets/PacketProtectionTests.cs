using System.Security.Cryptography;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Packets;

namespace Connet.Quic.Tests.Packets;

/// <summary>Write, protect, parse and unprotect round trips for every cipher suite and header form.</summary>
public class PacketProtectionTests
{
    // Suites travel as their code points: xunit theories are public and CipherSuite is internal.
    public static TheoryData<ushort> Suites =>
        [(ushort)CipherSuite.Aes128GcmSha256, (ushort)CipherSuite.Aes256GcmSha384, (ushort)CipherSuite.ChaCha20Poly1305Sha256];

    private static (IPacketKey Key, IHeaderKey HeaderKey) Keys(CipherSuite suite)
    {
        byte[] secret = new byte[suite.HashLength()];
        RandomNumberGenerator.Fill(secret);
        return (QuicKeys.CreatePacketKey(suite, secret), QuicKeys.CreateHeaderKey(suite, secret));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Long_header_packets_round_trip(ushort suiteCode)
    {
        var suite = (CipherSuite)suiteCode;
        (IPacketKey key, IHeaderKey hp) = Keys(suite);
        using (key)
        using (hp)
        {
            byte[] dcid = [1, 2, 3, 4, 5];
            byte[] scid = [9, 8, 7];
            byte[] payload = new byte[60];
            RandomNumberGenerator.Fill(payload);
            byte[] datagram = new byte[200];
            const ulong packetNumber = 0x1234;
            int pnLength = PacketNumberCoding.EncodedLength(packetNumber, 0x1200);

            int headerLength = PacketWriter.WriteLongHeader(datagram, PacketType.Handshake, dcid, scid, [], packetNumber, pnLength, out int lengthOffset, out int pnOffset);
            PacketWriter.PatchLength(datagram, lengthOffset, pnLength + payload.Length + key.TagLength);
            payload.CopyTo(datagram, headerLength);
            int length = PacketWriter.Protect(datagram, pnOffset, pnLength, packetNumber, payload.Length, key, hp);

            // A second, coalesced packet's worth of bytes follows; the parser must stop at this packet's end.
            datagram.AsSpan(length, 30).Fill(0xEE);
            Assert.True(PacketParser.TryParse(datagram.AsSpan(0, length + 30), 5, out PacketHeader header));
            Assert.Equal(PacketType.Handshake, header.Type);
            Assert.Equal(length, header.PacketLength);
            Assert.Equal(pnOffset, header.PacketNumberOffset);
            Assert.Equal(dcid, header.DestinationConnectionId(datagram).ToArray());
            Assert.Equal(scid, header.SourceConnectionId(datagram).ToArray());

            byte[] opened = SamplePacketProtectionTests.Unprotect(header.Packet(datagram.AsSpan()), header.PacketNumberOffset, 0x1233, key, hp, out ulong decoded);
            Assert.Equal(packetNumber, decoded);
            Assert.Equal(payload, opened);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Initial_packets_with_a_token_round_trip(ushort suiteCode)
    {
        var suite = (CipherSuite)suiteCode;
        (IPacketKey key, IHeaderKey hp) = Keys(suite);
        using (key)
        using (hp)
        {
            byte[] token = new byte[70];
            RandomNumberGenerator.Fill(token);
            byte[] payload = new byte[3]; // with a 1-byte packet number: exactly the 4 bytes sampling needs
            byte[] datagram = new byte[300];

            int headerLength = PacketWriter.WriteLongHeader(datagram, PacketType.Initial, [7, 7, 7, 7, 7, 7, 7, 7], [], token, 0, 1, out int lengthOffset, out int pnOffset);
            PacketWriter.PatchLength(datagram, lengthOffset, 1 + payload.Length + 16);
            int length = PacketWriter.Protect(datagram, pnOffset, 1, 0, payload.Length, key, hp);
            Assert.Equal(headerLength + payload.Length + 16, length);

            Assert.True(PacketParser.TryParse(datagram.AsSpan(0, length), 8, out PacketHeader header));
            Assert.Equal(PacketType.Initial, header.Type);
            Assert.Equal(token, header.Token(datagram).ToArray());
            byte[] opened = SamplePacketProtectionTests.Unprotect(header.Packet(datagram.AsSpan()), header.PacketNumberOffset, null, key, hp, out ulong decoded);
            Assert.Equal(0UL, decoded);
            Assert.Equal(payload, opened);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Short_header_packets_round_trip_with_spin_and_key_phase(ushort suiteCode)
    {
        var suite = (CipherSuite)suiteCode;
        (IPacketKey key, IHeaderKey hp) = Keys(suite);
        using (key)
        using (hp)
        {
            byte[] dcid = new byte[8];
            RandomNumberGenerator.Fill(dcid);
            byte[] payload = new byte[1000];
            RandomNumberGenerator.Fill(payload);
            byte[] datagram = new byte[1200];
            const ulong packetNumber = 1_000_000;

            for (int pnLength = 1; pnLength <= 4; pnLength++)
            {
                int headerLength = PacketWriter.WriteShortHeader(datagram, spin: true, keyPhase: true, dcid, packetNumber, pnLength, out int pnOffset);
                payload.CopyTo(datagram, headerLength);
                int length = PacketWriter.Protect(datagram, pnOffset, pnLength, packetNumber, payload.Length, key, hp);

                Assert.True(PacketParser.TryParse(datagram.AsSpan(0, length), 8, out PacketHeader header));
                Assert.Equal(PacketType.OneRtt, header.Type);
                Assert.Equal(dcid, header.DestinationConnectionId(datagram).ToArray());
                Span<byte> packet = header.Packet(datagram.AsSpan(0, length));
                byte[] opened = SamplePacketProtectionTests.Unprotect(packet, header.PacketNumberOffset, packetNumber - 1, key, hp, out ulong decoded);

                Assert.Equal(packetNumber, decoded);
                Assert.Equal(payload, opened);
                Assert.Equal(0x40 | 0x20 | 0x04 | (pnLength - 1), packet[0]);
            }
        }
    }

    [Fact]
    public void Header_protection_hides_the_packet_number_and_low_bits()
    {
        (IPacketKey key, IHeaderKey hp) = Keys(CipherSuite.Aes128GcmSha256);
        using (key)
        using (hp)
        {
            byte[] datagram = new byte[100];
            int changed = 0;
            for (ulong pn = 0; pn < 16; pn++)
            {
                int headerLength = PacketWriter.WriteShortHeader(datagram, false, false, [], pn, 4, out int pnOffset);
                byte[] plainHeader = datagram[..headerLength];
                PacketWriter.Protect(datagram, pnOffset, 4, pn, 20, key, hp);
                changed += plainHeader.AsSpan().SequenceEqual(datagram.AsSpan(0, headerLength)) ? 0 : 1;
                Assert.Equal(0x40, datagram[0] & 0xE0); // form, fixed and spin bits are never masked
            }

            Assert.Equal(16, changed);
        }
    }

    [Fact]
    public void Payload_too_short_to_sample_is_rejected_when_protecting()
    {
        (IPacketKey key, IHeaderKey hp) = Keys(CipherSuite.Aes128GcmSha256);
        using (key)
        using (hp)
        {
            byte[] datagram = new byte[100];
            PacketWriter.WriteShortHeader(datagram, false, false, [], 1, 1, out int pnOffset);
            Assert.Throws<ArgumentException>(() => PacketWriter.Protect(datagram, pnOffset, 1, 1, 2, key, hp));
        }
    }
}
