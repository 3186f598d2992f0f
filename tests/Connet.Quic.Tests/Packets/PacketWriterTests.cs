using Connet.Quic.Core;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Packets;
using Connet.Quic.Tests.Crypto;

namespace Connet.Quic.Tests.Packets;

public class PacketWriterTests
{
    [Fact]
    public void Version_negotiation_round_trips_and_echoes_the_connection_ids()
    {
        byte[] buffer = new byte[100];
        byte[] dcid = [1, 2, 3];
        byte[] scid = [4, 5, 6, 7, 8, 9, 10, 11];

        int length = PacketWriter.WriteVersionNegotiation(buffer, dcid, scid, [QuicVersion.Version1, 0x0a0a0a0a], RandomSource.Seeded(1));

        Assert.Equal(1 + 4 + 1 + 3 + 1 + 8 + 8, length);
        Assert.Equal(0xC0, buffer[0] & 0xC0);
        Assert.True(PacketParser.TryParse(buffer.AsSpan(0, length), 0, out PacketHeader header));
        Assert.Equal(PacketType.VersionNegotiation, header.Type);
        Assert.Equal(dcid, header.DestinationConnectionId(buffer).ToArray());
        Assert.Equal(scid, header.SourceConnectionId(buffer).ToArray());
        Assert.True(PacketWriter.TryParseVersionNegotiation(buffer.AsSpan(0, length), out uint[] versions));
        Assert.Equal([QuicVersion.Version1, 0x0a0a0a0au], versions);
    }

    [Fact]
    public void Malformed_version_negotiation_is_rejected()
    {
        byte[] buffer = new byte[2000];
        int length = PacketWriter.WriteVersionNegotiation(buffer, [1], [2], [1, 2], RandomSource.Seeded(2));

        int headerLength = 1 + 4 + 2 + 2;
        for (int cut = 0; cut < length; cut++)
        {
            // Cutting between versions leaves a shorter, valid list; anything else is malformed.
            bool wholeVersions = cut > headerLength && (cut - headerLength) % 4 == 0;
            Assert.Equal(wholeVersions, PacketWriter.TryParseVersionNegotiation(buffer.AsSpan(0, cut), out _));
        }

        Assert.False(PacketWriter.TryParseVersionNegotiation(buffer.AsSpan(0, length + 1), out _)); // not a multiple of 4

        byte[] notVn = (byte[])buffer.Clone();
        notVn[4] = 1;
        Assert.False(PacketWriter.TryParseVersionNegotiation(notVn.AsSpan(0, length), out _));

        uint[] many = new uint[300];
        length = PacketWriter.WriteVersionNegotiation(buffer, [1], [2], many, RandomSource.Seeded(3));
        Assert.False(PacketWriter.TryParseVersionNegotiation(buffer.AsSpan(0, length), out _));
    }

    [Fact]
    public void Written_retry_verifies_against_the_original_connection_id()
    {
        byte[] buffer = new byte[200];
        byte[] odcid = Rfc9001Vectors.ClientDestinationConnectionId;

        int length = PacketWriter.WriteRetry(buffer, [], Rfc9001Vectors.ServerSourceConnectionId, "token"u8, odcid, RandomSource.Seeded(4));

        byte[] retry = buffer[..length];
        Assert.True(RetryIntegrity.Verify(odcid, retry));
        Assert.False(RetryIntegrity.Verify([1, 2, 3], retry));
        Assert.True(PacketParser.TryParse(retry, 0, out PacketHeader header));
        Assert.Equal(PacketType.Retry, header.Type);
        Assert.Equal("token"u8.ToArray(), header.Token(retry).ToArray());

        // Same layout as the RFC 9001 A.4 packet except for the unused bits, which are random.
        byte[] rfc = Hex.Bytes(Rfc9001Vectors.Retry);
        Assert.Equal(rfc.Length, retry.Length);
        Assert.Equal(rfc[1..^16], retry[1..^16]);
        Assert.Equal(0xF0, retry[0] & 0xF0);
    }

    [Fact]
    public void Stateless_reset_looks_like_a_short_header_and_carries_the_token()
    {
        var token = new StatelessResetToken(Enumerable.Range(100, 16).Select(i => (byte)i).ToArray());
        byte[] buffer = new byte[50];

        int length = PacketWriter.WriteStatelessReset(buffer, 30, token, RandomSource.Seeded(5));

        Assert.Equal(30, length);
        Assert.Equal(0x40, buffer[0] & 0xC0);
        Assert.True(PacketWriter.TryGetStatelessResetToken(buffer.AsSpan(0, length), out StatelessResetToken read));
        Assert.Equal(token, read);
        Assert.True(PacketParser.TryParse(buffer.AsSpan(0, length), 8, out PacketHeader header));
        Assert.Equal(PacketType.OneRtt, header.Type);
    }

    [Fact]
    public void Stateless_reset_has_a_21_byte_minimum()
    {
        var token = new StatelessResetToken(new byte[16]);
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketWriter.WriteStatelessReset(new byte[50], 20, token, RandomSource.Seeded(6)));
        Assert.Equal(21, PacketWriter.WriteStatelessReset(new byte[50], 21, token, RandomSource.Seeded(6)));

        Assert.False(PacketWriter.TryGetStatelessResetToken(new byte[20], out _));
        Assert.True(PacketWriter.TryGetStatelessResetToken(new byte[21], out _));
    }

    [Theory]
    [InlineData(21, false, 0, 0)]
    [InlineData(22, true, 21, 21)]
    [InlineData(43, true, 42, 42)]
    [InlineData(44, true, 42, 43)]
    [InlineData(1200, true, 42, 64)]
    public void Stateless_reset_length_stays_below_the_trigger(int trigger, bool expected, int min, int max)
    {
        var random = RandomSource.Seeded(trigger);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(expected, PacketWriter.TryChooseStatelessResetLength(trigger, random, out int length));
            if (expected)
            {
                Assert.InRange(length, min, max);
                Assert.True(length < trigger);
            }
        }
    }

    [Fact]
    public void Long_header_layout_and_length_patching()
    {
        byte[] buffer = new byte[100];
        int headerLength = PacketWriter.WriteLongHeader(buffer, PacketType.Handshake, [0xAA], [0xBB, 0xCC], [], 0x0102, 2, out int lengthOffset, out int pnOffset);

        Assert.Equal(1 + 4 + 2 + 3 + 2 + 2, headerLength);
        Assert.Equal(0xE1, buffer[0]); // long, fixed, type 2, pn length 2
        Assert.Equal(10, lengthOffset);
        Assert.Equal(12, pnOffset);
        Assert.Equal([0x01, 0x02], buffer[12..14]);

        PacketWriter.PatchLength(buffer, lengthOffset, 16383);
        Assert.Equal([0x7F, 0xFF], buffer[10..12]);
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketWriter.PatchLength(buffer, lengthOffset, 16384));
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketWriter.WriteLongHeader(buffer, PacketType.Retry, [], [], [], 0, 1, out _, out _));
        Assert.Throws<ArgumentException>(() => PacketWriter.WriteLongHeader(buffer, PacketType.Handshake, [], [], [1], 0, 1, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => PacketWriter.WriteLongHeader(buffer, PacketType.Initial, new byte[21], [], [], 0, 1, out _, out _));
    }

    [Fact]
    public void Reserved_version_pattern_is_recognised()
    {
        Assert.True(QuicVersion.IsReservedForNegotiation(0x0a0a0a0a));
        Assert.True(QuicVersion.IsReservedForNegotiation(0xfafafafa));
        Assert.True(QuicVersion.IsReservedForNegotiation(0x1a2a3a4a));
        Assert.False(QuicVersion.IsReservedForNegotiation(0x00000001));
        Assert.False(QuicVersion.IsReservedForNegotiation(0x0a0a0a0b));
        Assert.True(QuicVersion.IsSupported(1));
        Assert.False(QuicVersion.IsSupported(2));
    }
}
