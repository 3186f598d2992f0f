using Connet.Quic.Core.Packets;
using Connet.Quic.Tests.Crypto;

namespace Connet.Quic.Tests.Packets;

public class PacketParserTests
{
    public static TheoryData<string, int> ValidPackets => new()
    {
        { Rfc9001Vectors.ClientInitialProtected, 8 },
        { Rfc9001Vectors.ServerInitialProtected, 0 },
        { Rfc9001Vectors.ChaChaProtected, 0 },
    };

    [Theory]
    [MemberData(nameof(ValidPackets))]
    public void Every_truncation_of_a_valid_protected_packet_is_rejected(string hex, int shortCidLength)
    {
        byte[] packet = Hex.Bytes(hex);
        Assert.True(PacketParser.TryParse(packet, shortCidLength, out _));

        for (int length = 0; length < packet.Length; length++)
        {
            Assert.False(PacketParser.TryParse(packet.AsSpan(0, length), shortCidLength, out _), $"accepted {length} of {packet.Length} bytes");
        }
    }

    [Fact]
    public void Retry_truncations_never_throw_and_need_room_for_the_tag()
    {
        byte[] retry = Hex.Bytes(Rfc9001Vectors.Retry);
        Assert.True(PacketParser.TryParse(retry, 0, out PacketHeader header));
        Assert.Equal(PacketType.Retry, header.Type);
        Assert.Equal("token"u8.ToArray(), header.Token(retry).ToArray());
        Assert.Equal(Rfc9001Vectors.ServerSourceConnectionId, header.SourceConnectionId(retry).ToArray());
        Assert.Equal(retry.Length, header.PacketLength);
        Assert.False(header.HasPacketNumber);

        int headerEnd = 1 + 4 + 1 + 0 + 1 + 8;
        for (int length = 0; length < retry.Length; length++)
        {
            bool parsed = PacketParser.TryParse(retry.AsSpan(0, length), 0, out PacketHeader truncated);
            Assert.Equal(length >= headerEnd + 16, parsed);
            if (parsed)
            {
                Assert.Equal(length - headerEnd - 16, truncated.TokenLength);
            }
        }
    }

    [Fact]
    public void Connection_id_longer_than_20_bytes_is_rejected_for_v1()
    {
        byte[] packet = LongHeader(version: 1, dcidLength: 21, scidLength: 0, tail: new byte[60]);
        Assert.False(PacketParser.TryParse(packet, 0, out _));

        packet = LongHeader(version: 1, dcidLength: 0, scidLength: 21, tail: new byte[60]);
        Assert.False(PacketParser.TryParse(packet, 0, out _));

        packet = LongHeader(version: 1, dcidLength: 20, scidLength: 20, tail: [0x00, 0x14, .. new byte[20]]);
        Assert.True(PacketParser.TryParse(packet, 0, out PacketHeader header));
        Assert.Equal(20, header.DestinationConnectionIdLength);
        Assert.Equal(20, header.SourceConnectionIdLength);
    }

    [Fact]
    public void Length_field_past_the_end_of_the_datagram_is_rejected()
    {
        // token length 0, Length 0x40 0x30 = 48 but only 47 bytes follow.
        byte[] packet = LongHeader(version: 1, dcidLength: 8, scidLength: 0, tail: [0x00, 0x40, 0x30, .. new byte[47]]);
        Assert.False(PacketParser.TryParse(packet, 0, out _));

        packet = LongHeader(version: 1, dcidLength: 8, scidLength: 0, tail: [0x00, 0x40, 0x30, .. new byte[48]]);
        Assert.True(PacketParser.TryParse(packet, 0, out PacketHeader header));
        Assert.Equal(packet.Length, header.PacketLength);
    }

    [Fact]
    public void Token_length_past_the_end_and_huge_varints_are_rejected()
    {
        byte[] packet = LongHeader(version: 1, dcidLength: 8, scidLength: 0, tail: [0x44, 0x00, .. new byte[40]]);
        Assert.False(PacketParser.TryParse(packet, 0, out _));

        packet = LongHeader(version: 1, dcidLength: 8, scidLength: 0, tail: [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, .. new byte[40]]);
        Assert.False(PacketParser.TryParse(packet, 0, out _));
    }

    [Fact]
    public void Packets_too_short_to_sample_are_rejected()
    {
        // Length 19: one byte short of 4 packet number bytes + a 16-byte sample.
        byte[] packet = LongHeader(version: 1, dcidLength: 8, scidLength: 0, tail: [0x00, 0x13, .. new byte[19]]);
        Assert.False(PacketParser.TryParse(packet, 0, out _));

        Assert.False(PacketParser.TryParse(FixedBitThenZeros(20), 0, out _));
        Assert.True(PacketParser.TryParse(FixedBitThenZeros(21), 0, out _));
        Assert.False(PacketParser.TryParse(FixedBitThenZeros(28), 8, out _));
    }

    [Fact]
    public void Zero_fixed_bit_is_rejected_for_long_and_short_headers()
    {
        byte[] client = Hex.Bytes(Rfc9001Vectors.ClientInitialProtected);
        client[0] &= 0xBF;
        Assert.False(PacketParser.TryParse(client, 8, out _));

        byte[] shortPacket = Hex.Bytes(Rfc9001Vectors.ChaChaProtected);
        shortPacket[0] &= 0xBF;
        Assert.False(PacketParser.TryParse(shortPacket, 0, out _));

        // Trailing zero padding after coalesced packets looks like a short header without the fixed bit.
        Assert.False(PacketParser.TryParse(new byte[100], 0, out _));
    }

    [Fact]
    public void Coalesced_packets_are_delimited_by_the_length_field()
    {
        byte[] server = Hex.Bytes(Rfc9001Vectors.ServerInitialProtected);
        byte[] client = Hex.Bytes(Rfc9001Vectors.ClientInitialProtected);
        byte[] datagram = [.. server, .. client, .. new byte[10]];

        Assert.True(PacketParser.TryParse(datagram, 8, out PacketHeader first));
        Assert.Equal(server.Length, first.PacketLength);
        Assert.True(PacketParser.TryParse(datagram.AsSpan(first.PacketLength), 8, out PacketHeader second));
        Assert.Equal(client.Length, second.PacketLength);
        Assert.False(PacketParser.TryParse(datagram.AsSpan(first.PacketLength + second.PacketLength), 8, out _));
    }

    [Fact]
    public void Unknown_versions_parse_only_the_invariant_fields()
    {
        // Fixed bit clear, 30-byte connection IDs and no v1 structure: still answerable with Version Negotiation.
        byte[] packet = LongHeader(version: 0x1a2a3a4a, dcidLength: 30, scidLength: 25, tail: [1, 2, 3], firstByte: 0x80);

        Assert.True(PacketParser.TryParse(packet, 0, out PacketHeader header));

        Assert.False(header.IsVersionSupported);
        Assert.True(QuicVersion.IsReservedForNegotiation(header.Version));
        Assert.Equal(30, header.DestinationConnectionIdLength);
        Assert.Equal(25, header.SourceConnectionIdLength);
        Assert.Equal(packet.Length, header.PacketLength);
        Assert.False(header.HasPacketNumber);
    }

    [Fact]
    public void Version_negotiation_packets_parse_as_such()
    {
        byte[] packet = LongHeader(version: 0, dcidLength: 4, scidLength: 8, tail: [0, 0, 0, 1], firstByte: 0xC5);

        Assert.True(PacketParser.TryParse(packet, 0, out PacketHeader header));

        Assert.Equal(PacketType.VersionNegotiation, header.Type);
        Assert.Equal(0u, header.Version);
        Assert.Equal(8, header.SourceConnectionIdLength);
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var random = new Random(42);
        byte[] buffer = new byte[64];
        for (int i = 0; i < 20000; i++)
        {
            int length = random.Next(buffer.Length + 1);
            random.NextBytes(buffer);
            if (i % 2 == 0)
            {
                // Bias towards v1 long headers so the deeper branches are reached.
                buffer[0] |= 0xC0;
                buffer[1] = 0;
                buffer[2] = 0;
                buffer[3] = 0;
                buffer[4] = 1;
                buffer[5] = (byte)random.Next(24);
            }

            if (PacketParser.TryParse(buffer.AsSpan(0, length), random.Next(21), out PacketHeader header))
            {
                Assert.InRange(header.PacketLength, 1, length);
                Assert.InRange(header.DestinationConnectionIdOffset + header.DestinationConnectionIdLength, 0, length);
                Assert.InRange(header.SourceConnectionIdOffset + header.SourceConnectionIdLength, 0, length);
                Assert.InRange(header.TokenOffset + header.TokenLength, 0, length);
                if (header.HasPacketNumber)
                {
                    Assert.True(header.PacketNumberOffset + 20 <= header.PacketLength);
                }
            }
        }
    }

    private static byte[] FixedBitThenZeros(int length)
    {
        byte[] packet = new byte[length];
        packet[0] = 0x40;
        return packet;
    }

    private static byte[] LongHeader(uint version, int dcidLength, int scidLength, byte[] tail, byte firstByte = 0xC0)
    {
        var bytes = new List<byte> { firstByte, (byte)(version >> 24), (byte)(version >> 16), (byte)(version >> 8), (byte)version };
        bytes.Add((byte)dcidLength);
        bytes.AddRange(Enumerable.Repeat((byte)0xAA, dcidLength));
        bytes.Add((byte)scidLength);
        bytes.AddRange(Enumerable.Repeat((byte)0xBB, scidLength));
        bytes.AddRange(tail);
        return [.. bytes];
    }
}
