using Connet.Quic.Core.Packets;

namespace Connet.Quic.Tests.Packets;

public class PacketNumberCodingTests
{
    [Theory]
    [InlineData(0xac5c02UL, 0xabe8b3UL, 2)] // RFC 9000 A.2: 29,519 outstanding -> 16 bits
    [InlineData(0xace8feUL, 0xabe8b3UL, 3)] // RFC 9000 A.2: 131,222 twice the range -> 24 bits
    [InlineData(1UL, 0UL, 1)]
    [InlineData(128UL, 0UL, 1)]
    [InlineData(129UL, 0UL, 2)]
    [InlineData(0x8000UL + 5, 5UL, 2)]
    [InlineData(0x8001UL + 5, 5UL, 3)]
    [InlineData((1UL << 31) + 10, 10UL, 4)]
    public void Encoded_length_covers_twice_the_unacknowledged_range(ulong packetNumber, ulong largestAcked, int expected)
    {
        Assert.Equal(expected, PacketNumberCoding.EncodedLength(packetNumber, largestAcked));
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(127UL, 1)]
    [InlineData(128UL, 2)]
    [InlineData(40000UL, 3)]
    public void Encoded_length_without_acknowledgements_counts_from_zero(ulong packetNumber, int expected)
    {
        Assert.Equal(expected, PacketNumberCoding.EncodedLength(packetNumber, null));
    }

    [Fact]
    public void Encoded_length_rejects_unrepresentable_gaps_and_stale_numbers()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketNumberCoding.EncodedLength((1UL << 31) + 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketNumberCoding.EncodedLength(5, 5));
    }

    [Fact]
    public void Decode_matches_rfc9000_a3_example()
    {
        Assert.Equal(0xa82f9b32UL, PacketNumberCoding.Decode(0xa82f30ea, 0x9b32, 2));
    }

    [Theory]
    [InlineData(null, 0UL, 1, 0UL)]
    [InlineData(null, 5UL, 1, 5UL)]
    [InlineData(0xffUL, 0x00UL, 1, 0x100UL)]     // wraps forward
    [InlineData(0x100UL, 0xffUL, 1, 0xffUL)]     // a late packet just below the window base
    [InlineData(0x17fUL, 0x00UL, 1, 0x200UL)]
    [InlineData(0x180UL, 0x80UL, 1, 0x180UL)]
    [InlineData(10UL, 0xf0UL, 1, 0xf0UL)]        // no wrap below zero
    public void Decode_picks_the_candidate_nearest_the_next_expected_number(ulong? largest, ulong truncated, int length, ulong expected)
    {
        Assert.Equal(expected, PacketNumberCoding.Decode(largest, truncated, length));
    }

    [Fact]
    public void Decode_does_not_exceed_the_packet_number_space()
    {
        ulong max = (1UL << 62) - 1;
        Assert.Equal(max, PacketNumberCoding.Decode(max - 1, max & 0xff, 1));
        Assert.True(PacketNumberCoding.Decode(max - 1, 0, 1) < (1UL << 62));
    }

    [Fact]
    public void Encoding_chosen_by_the_sender_always_decodes_back()
    {
        var random = new Random(1234);
        for (int i = 0; i < 5000; i++)
        {
            ulong largestAcked = (ulong)random.NextInt64(0, 1L << 40);
            ulong packetNumber = largestAcked + 1 + (ulong)random.NextInt64(0, 1L << random.Next(1, 30));
            int length = PacketNumberCoding.EncodedLength(packetNumber, largestAcked);
            ulong truncated = packetNumber & ((1UL << (length * 8)) - 1);

            // The receiver has seen at least the acknowledged packet, and at most anything sent before this one.
            ulong largestReceived = largestAcked + (ulong)random.NextInt64(0, (long)(packetNumber - largestAcked));
            Assert.Equal(packetNumber, PacketNumberCoding.Decode(largestReceived, truncated, length));
        }
    }
}
