using System.Net;
using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Parameters;

namespace Connet.Quic.Tests.Parameters;

public class TransportParametersTests
{
    private static readonly byte[] Token = [.. Enumerable.Range(0x40, 16).Select(i => (byte)i)];
    private static readonly byte[] OtherToken = [.. Enumerable.Range(0x80, 16).Select(i => (byte)i)];

    [Fact]
    public void Every_parameter_round_trips()
    {
        var original = new TransportParameters
        {
            OriginalDestinationConnectionId = new ConnectionId([1, 2, 3, 4, 5, 6, 7, 8]),
            MaxIdleTimeoutMs = 30_000,
            StatelessResetToken = new StatelessResetToken(Token),
            MaxUdpPayloadSize = 1200,
            InitialMaxData = VarInt.MaxValue,
            InitialMaxStreamDataBidiLocal = 64,
            InitialMaxStreamDataBidiRemote = 16384,
            InitialMaxStreamDataUni = 63,
            InitialMaxStreamsBidi = 1UL << 60,
            InitialMaxStreamsUni = 3,
            AckDelayExponent = 20,
            MaxAckDelayMs = (1 << 14) - 1,
            DisableActiveMigration = true,
            PreferredAddress = new PreferredAddress(
                new IPEndPoint(IPAddress.Parse("192.0.2.1"), 4433),
                new IPEndPoint(IPAddress.Parse("2001:db8::1"), 443),
                new ConnectionId([9, 9, 9, 9]),
                new StatelessResetToken(OtherToken)),
            ActiveConnectionIdLimit = 8,
            InitialSourceConnectionId = new ConnectionId([0xaa, 0xbb]),
            RetrySourceConnectionId = new ConnectionId(new byte[20]),
        };

        TransportParameters decoded = TransportParameters.Decode(original.Encode(RandomSource.Seeded(1)), sentByServer: true);

        Assert.Equal(original.OriginalDestinationConnectionId, decoded.OriginalDestinationConnectionId);
        Assert.Equal(30_000UL, decoded.MaxIdleTimeoutMs);
        Assert.Equal(new StatelessResetToken(Token), decoded.StatelessResetToken);
        Assert.Equal(1200UL, decoded.MaxUdpPayloadSize);
        Assert.Equal(VarInt.MaxValue, decoded.InitialMaxData);
        Assert.Equal(64UL, decoded.InitialMaxStreamDataBidiLocal);
        Assert.Equal(16384UL, decoded.InitialMaxStreamDataBidiRemote);
        Assert.Equal(63UL, decoded.InitialMaxStreamDataUni);
        Assert.Equal(1UL << 60, decoded.InitialMaxStreamsBidi);
        Assert.Equal(3UL, decoded.InitialMaxStreamsUni);
        Assert.Equal(20UL, decoded.AckDelayExponent);
        Assert.Equal(16383UL, decoded.MaxAckDelayMs);
        Assert.True(decoded.DisableActiveMigration);
        Assert.Equal(original.PreferredAddress, decoded.PreferredAddress);
        Assert.Equal(8UL, decoded.ActiveConnectionIdLimit);
        Assert.Equal(original.InitialSourceConnectionId, decoded.InitialSourceConnectionId);
        Assert.Equal(original.RetrySourceConnectionId, decoded.RetrySourceConnectionId);
    }

    [Fact]
    public void Absent_parameters_take_rfc_defaults()
    {
        TransportParameters decoded = TransportParameters.Decode([], sentByServer: false);
        Assert.Null(decoded.OriginalDestinationConnectionId);
        Assert.Equal(0UL, decoded.MaxIdleTimeoutMs);
        Assert.Null(decoded.StatelessResetToken);
        Assert.Equal(65527UL, decoded.MaxUdpPayloadSize);
        Assert.Equal(0UL, decoded.InitialMaxData);
        Assert.Equal(0UL, decoded.InitialMaxStreamsBidi);
        Assert.Equal(3UL, decoded.AckDelayExponent);
        Assert.Equal(25UL, decoded.MaxAckDelayMs);
        Assert.False(decoded.DisableActiveMigration);
        Assert.Null(decoded.PreferredAddress);
        Assert.Equal(2UL, decoded.ActiveConnectionIdLimit);
        Assert.Null(decoded.InitialSourceConnectionId);
        Assert.Null(decoded.RetrySourceConnectionId);
    }

    [Fact]
    public void Empty_initial_source_connection_id_is_still_sent()
    {
        var parameters = new TransportParameters { InitialSourceConnectionId = ConnectionId.Empty };
        TransportParameters decoded = TransportParameters.Decode(parameters.Encode(), sentByServer: false);
        Assert.Equal(ConnectionId.Empty, decoded.InitialSourceConnectionId);
    }

    [Fact]
    public void Encode_adds_exactly_one_grease_parameter_and_defaults_are_omitted()
    {
        byte[] encoded = new TransportParameters().Encode(RandomSource.Seeded(42));
        var ids = ReadIds(encoded);
        ulong grease = Assert.Single(ids);
        Assert.Equal(27UL, grease % 31);
        Assert.True(grease >= 27);
    }

    [Fact]
    public void Unknown_and_grease_ids_are_skipped()
    {
        byte[] data =
        [
            .. Param(27, 1, 2, 3),
            .. IntParam(0x04, 1000),
            .. Param(31 * 1000 + 27),
            .. Param(0x4000, 0xff),
            .. Param(0x2ab2, 1), // an extension id we do not implement
            .. IntParam(0x09, 7),
        ];
        TransportParameters decoded = TransportParameters.Decode(data, sentByServer: false);
        Assert.Equal(1000UL, decoded.InitialMaxData);
        Assert.Equal(7UL, decoded.InitialMaxStreamsUni);
    }

    [Theory]
    [InlineData(0x04UL)]
    [InlineData(0x0fUL)]
    [InlineData(0x10UL)]
    [InlineData(27UL)]
    public void Duplicate_ids_are_rejected(ulong id)
    {
        byte[] once = Param(id, 0x01);
        AssertInvalid([.. once, .. once], sentByServer: true);
    }

    [Theory]
    [InlineData(new byte[] { 0x04 })] // id without a length
    [InlineData(new byte[] { 0x04, 0x02, 0x40 })] // length beyond the data
    [InlineData(new byte[] { 0x80, 0x00 })] // truncated id varint
    [InlineData(new byte[] { 0x04, 0x40 })] // truncated length varint
    [InlineData(new byte[] { 0x04, 0x02, 0x05, 0x00 })] // integer with trailing bytes
    [InlineData(new byte[] { 0x04, 0x01, 0x40 })] // integer varint cut short inside its value
    [InlineData(new byte[] { 0x04, 0x00 })] // integer with no bytes
    [InlineData(new byte[] { 0x0c, 0x01, 0x00 })] // disable_active_migration must be empty
    public void Malformed_values_are_rejected(byte[] data) => AssertInvalid(data, sentByServer: true);

    [Fact]
    public void Every_cut_inside_a_parameter_is_rejected()
    {
        var parameters = new TransportParameters
        {
            InitialMaxData = 1 << 20,
            InitialSourceConnectionId = new ConnectionId([1, 2, 3, 4, 5]),
            StatelessResetToken = new StatelessResetToken(Token),
        };
        byte[] encoded = parameters.Encode(RandomSource.Seeded(3));
        HashSet<int> boundaries = ParameterBoundaries(encoded);
        for (int length = 0; length < encoded.Length; length++)
        {
            byte[] prefix = encoded[..length];
            if (boundaries.Contains(length))
            {
                TransportParameters.Decode(prefix, sentByServer: true);
            }
            else
            {
                AssertInvalid(prefix, sentByServer: true);
            }
        }
    }

    [Theory]
    [InlineData(0x03UL, 1199UL, 1200UL)] // max_udp_payload_size
    [InlineData(0x0eUL, 1UL, 2UL)] // active_connection_id_limit
    [InlineData(0x0eUL, 0UL, 2UL)]
    public void Values_below_the_minimum_are_rejected(ulong id, ulong invalid, ulong smallestValid)
    {
        AssertInvalid(IntParam(id, invalid), sentByServer: true);
        TransportParameters.Decode(IntParam(id, smallestValid), sentByServer: true);
    }

    [Theory]
    [InlineData(0x0aUL, 21UL, 20UL)] // ack_delay_exponent
    [InlineData(0x0bUL, 1UL << 14, (1UL << 14) - 1)] // max_ack_delay
    [InlineData(0x08UL, (1UL << 60) + 1, 1UL << 60)] // initial_max_streams_bidi
    [InlineData(0x09UL, (1UL << 60) + 1, 1UL << 60)] // initial_max_streams_uni
    public void Values_above_the_maximum_are_rejected(ulong id, ulong invalid, ulong largestValid)
    {
        AssertInvalid(IntParam(id, invalid), sentByServer: true);
        TransportParameters.Decode(IntParam(id, largestValid), sentByServer: true);
    }

    [Theory]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(0)]
    public void Stateless_reset_token_must_be_16_bytes(int length)
    {
        AssertInvalid(Param(0x02, new byte[length]), sentByServer: true);
    }

    [Theory]
    [InlineData(0x00UL)]
    [InlineData(0x0fUL)]
    [InlineData(0x10UL)]
    public void Connection_ids_longer_than_20_bytes_are_rejected(ulong id)
    {
        AssertInvalid(Param(id, new byte[21]), sentByServer: true);
        Assert.NotNull(TransportParameters.Decode(Param(id, new byte[20]), sentByServer: true));
    }

    [Theory]
    [InlineData(0x00UL, 8)] // original_destination_connection_id
    [InlineData(0x02UL, 16)] // stateless_reset_token
    [InlineData(0x10UL, 8)] // retry_source_connection_id
    public void Server_only_parameters_from_a_client_are_rejected(ulong id, int length)
    {
        byte[] data = Param(id, new byte[length]);
        TransportParameters.Decode(data, sentByServer: true);
        AssertInvalid(data, sentByServer: false);
    }

    [Fact]
    public void Preferred_address_from_a_client_is_rejected()
    {
        byte[] data = Param(0x0d, PreferredAddressBytes(cidLength: 4));
        Assert.NotNull(TransportParameters.Decode(data, sentByServer: true).PreferredAddress);
        AssertInvalid(data, sentByServer: false);
    }

    [Fact]
    public void Preferred_address_layout_matches_rfc_9000_18_2()
    {
        var address = new PreferredAddress(
            new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0x1151),
            null,
            new ConnectionId([0xc1, 0xc2]),
            new StatelessResetToken(Token));
        byte[] bytes = new byte[address.EncodedLength];
        var writer = new SpanWriter(bytes);
        address.Encode(ref writer);

        byte[] expected = [192, 0, 2, 1, 0x11, 0x51, .. new byte[16], 0, 0, 2, 0xc1, 0xc2, .. Token];
        Assert.Equal(expected, bytes);

        PreferredAddress decoded = PreferredAddress.Decode(bytes);
        Assert.Equal(address, decoded);
        Assert.Null(decoded.IPv6);
    }

    [Fact]
    public void Preferred_address_with_zero_length_connection_id_is_rejected()
    {
        AssertInvalid(Param(0x0d, PreferredAddressBytes(cidLength: 0)), sentByServer: true);
        AssertInvalid(Param(0x0d, PreferredAddressBytes(cidLength: 21)), sentByServer: true);
    }

    [Fact]
    public void Preferred_address_truncated_or_with_trailing_bytes_is_rejected()
    {
        byte[] valid = PreferredAddressBytes(cidLength: 4);
        for (int length = 0; length < valid.Length; length++)
        {
            AssertInvalid(Param(0x0d, valid[..length]), sentByServer: true);
        }

        AssertInvalid(Param(0x0d, [.. valid, 0]), sentByServer: true);
    }

    private static byte[] PreferredAddressBytes(int cidLength) =>
        [127, 0, 0, 1, 0x11, 0x51, .. IPAddress.IPv6Loopback.GetAddressBytes(), 0x01, 0xbb, (byte)cidLength, .. new byte[cidLength], .. Token];

    private static void AssertInvalid(byte[] data, bool sentByServer)
    {
        var ex = Assert.Throws<QuicProtocolException>(() => TransportParameters.Decode(data, sentByServer));
        Assert.Equal(TransportErrorCode.TransportParameterError, ex.Code);
    }

    private static byte[] Param(ulong id, params byte[] value)
    {
        var buffer = new byte[16 + value.Length];
        var writer = new SpanWriter(buffer);
        writer.WriteVarInt(id);
        writer.WriteVarInt((ulong)value.Length);
        writer.WriteBytes(value);
        return buffer[..writer.Position];
    }

    private static byte[] IntParam(ulong id, ulong value)
    {
        var encoded = new byte[8];
        int length = VarInt.Write(encoded, value);
        return Param(id, encoded[..length]);
    }

    private static List<ulong> ReadIds(byte[] encoded)
    {
        var ids = new List<ulong>();
        var reader = new SpanReader(encoded);
        while (!reader.IsEmpty)
        {
            Assert.True(reader.TryReadVarInt(out ulong id));
            Assert.True(reader.TryReadVarIntLengthPrefixed(out _));
            ids.Add(id);
        }

        return ids;
    }

    private static HashSet<int> ParameterBoundaries(byte[] encoded)
    {
        var boundaries = new HashSet<int> { 0 };
        var reader = new SpanReader(encoded);
        while (!reader.IsEmpty)
        {
            Assert.True(reader.TryReadVarInt(out _));
            Assert.True(reader.TryReadVarIntLengthPrefixed(out _));
            boundaries.Add(reader.Position);
        }

        return boundaries;
    }
}
