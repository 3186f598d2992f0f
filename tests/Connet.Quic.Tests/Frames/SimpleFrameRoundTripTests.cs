using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;

namespace Connet.Quic.Tests.Frames;

public class SimpleFrameRoundTripTests
{
    public static TheoryData<ulong> EdgeValues() =>
        [0, 1, 63, 64, 16383, 16384, 1073741823, 1073741824, VarInt.MaxValue];

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void Reset_stream_round_trips(ulong value)
    {
        var frame = new ResetStreamFrame(value, VarInt.MaxValue - value, value);
        Assert.Equal(frame, RoundTrip(FrameType.ResetStream, frame.EncodedLength, (ref SpanWriter w) => frame.Encode(ref w),
            (ref SpanReader r, ulong _) => ResetStreamFrame.Decode(ref r)));
    }

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void Stop_sending_round_trips(ulong value)
    {
        var frame = new StopSendingFrame(value, value);
        Assert.Equal(frame, RoundTrip(FrameType.StopSending, frame.EncodedLength, (ref SpanWriter w) => frame.Encode(ref w),
            (ref SpanReader r, ulong _) => StopSendingFrame.Decode(ref r)));
    }

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void Flow_control_frames_round_trip(ulong value)
    {
        var maxData = new MaxDataFrame(value);
        Assert.Equal(maxData, RoundTrip(FrameType.MaxData, maxData.EncodedLength, (ref SpanWriter w) => maxData.Encode(ref w),
            (ref SpanReader r, ulong _) => MaxDataFrame.Decode(ref r)));

        var maxStreamData = new MaxStreamDataFrame(value, VarInt.MaxValue - value);
        Assert.Equal(maxStreamData, RoundTrip(FrameType.MaxStreamData, maxStreamData.EncodedLength,
            (ref SpanWriter w) => maxStreamData.Encode(ref w), (ref SpanReader r, ulong _) => MaxStreamDataFrame.Decode(ref r)));

        var dataBlocked = new DataBlockedFrame(value);
        Assert.Equal(dataBlocked, RoundTrip(FrameType.DataBlocked, dataBlocked.EncodedLength,
            (ref SpanWriter w) => dataBlocked.Encode(ref w), (ref SpanReader r, ulong _) => DataBlockedFrame.Decode(ref r)));

        var streamDataBlocked = new StreamDataBlockedFrame(value, value);
        Assert.Equal(streamDataBlocked, RoundTrip(FrameType.StreamDataBlocked, streamDataBlocked.EncodedLength,
            (ref SpanWriter w) => streamDataBlocked.Encode(ref w), (ref SpanReader r, ulong _) => StreamDataBlockedFrame.Decode(ref r)));

        var retire = new RetireConnectionIdFrame(value);
        Assert.Equal(retire, RoundTrip(FrameType.RetireConnectionId, retire.EncodedLength,
            (ref SpanWriter w) => retire.Encode(ref w), (ref SpanReader r, ulong _) => RetireConnectionIdFrame.Decode(ref r)));
    }

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void Stream_count_frames_round_trip_in_both_directions(ulong value)
    {
        ulong count = Math.Min(value, 1UL << 60);
        foreach (bool bidirectional in new[] { true, false })
        {
            var maxStreams = new MaxStreamsFrame(bidirectional, count);
            Assert.Equal(maxStreams, RoundTrip(bidirectional ? FrameType.MaxStreamsBidi : FrameType.MaxStreamsUni, maxStreams.EncodedLength,
                (ref SpanWriter w) => maxStreams.Encode(ref w), MaxStreamsFrame.Decode));

            var blocked = new StreamsBlockedFrame(bidirectional, count);
            Assert.Equal(blocked, RoundTrip(bidirectional ? FrameType.StreamsBlockedBidi : FrameType.StreamsBlockedUni, blocked.EncodedLength,
                (ref SpanWriter w) => blocked.Encode(ref w), StreamsBlockedFrame.Decode));
        }
    }

    [Theory]
    [InlineData(0x12)]
    [InlineData(0x13)]
    [InlineData(0x16)]
    [InlineData(0x17)]
    public void Stream_count_above_2_pow_60_is_a_frame_encoding_error(byte type)
    {
        byte[] ok = FrameTestCodec.Write((ref SpanWriter w) =>
        {
            w.WriteByte(type);
            w.WriteVarInt(1UL << 60);
        });
        Assert.Single(FrameTestCodec.DecodeAll(ok));

        byte[] tooMany = FrameTestCodec.Write((ref SpanWriter w) =>
        {
            w.WriteByte(type);
            w.WriteVarInt((1UL << 60) + 1);
        });
        QuicProtocolException ex = FrameTestCodec.DecodeFails(tooMany);
        Assert.Equal(TransportErrorCode.FrameEncodingError, ex.Code);
        Assert.Equal(type, ex.FrameType);
    }

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void Path_frames_round_trip(ulong value)
    {
        var challenge = new PathChallengeFrame(value ^ 0xF0F0_F0F0_F0F0_F0F0);
        Assert.Equal(challenge, RoundTrip(FrameType.PathChallenge, challenge.EncodedLength,
            (ref SpanWriter w) => challenge.Encode(ref w), (ref SpanReader r, ulong _) => PathChallengeFrame.Decode(ref r)));

        var response = new PathResponseFrame(value);
        Assert.Equal(response, RoundTrip(FrameType.PathResponse, response.EncodedLength,
            (ref SpanWriter w) => response.Encode(ref w), (ref SpanReader r, ulong _) => PathResponseFrame.Decode(ref r)));
    }

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void New_connection_id_round_trips(ulong value)
    {
        byte[] cid = [.. Enumerable.Range(1, 20).Select(i => (byte)i)];
        byte[] token = [.. Enumerable.Range(100, 16).Select(i => (byte)i)];
        foreach (int length in new[] { 1, 8, 20 })
        {
            var frame = new NewConnectionIdFrame(value, value / 2, new ConnectionId(cid.AsSpan(0, length)), new StatelessResetToken(token));
            NewConnectionIdFrame decoded = RoundTrip(FrameType.NewConnectionId, frame.EncodedLength,
                (ref SpanWriter w) => frame.Encode(ref w), (ref SpanReader r, ulong _) => NewConnectionIdFrame.Decode(ref r));
            Assert.Equal(frame, decoded);
            Assert.Equal(length, decoded.ConnectionId.Length);
        }
    }

    [Fact]
    public void New_token_round_trips()
    {
        foreach (int length in new[] { 1, 63, 64, 1000 })
        {
            byte[] token = [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7))];
            byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => new NewTokenFrame(token).Encode(ref w));
            Assert.Equal(new NewTokenFrame(token).EncodedLength, bytes.Length);
            var reader = new SpanReader(bytes);
            Assert.Equal(FrameType.NewToken, FrameTypes.Read(ref reader, out _));
            Assert.True(NewTokenFrame.Decode(ref reader).Token.SequenceEqual(token));
            Assert.True(reader.IsEmpty);
        }
    }

    [Fact]
    public void Empty_new_token_is_a_frame_encoding_error()
    {
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails([0x07, 0x00]).Code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(21)]
    [InlineData(255)]
    public void New_connection_id_length_outside_1_to_20_is_a_frame_encoding_error(byte length)
    {
        byte[] bytes = [0x18, 0x01, 0x00, length, .. new byte[length + 16]];
        QuicProtocolException ex = FrameTestCodec.DecodeFails(bytes);
        Assert.Equal(TransportErrorCode.FrameEncodingError, ex.Code);
        Assert.Equal(0x18UL, ex.FrameType);
    }

    [Fact]
    public void Retire_prior_to_above_sequence_number_is_a_frame_encoding_error()
    {
        byte[] valid = [0x18, 0x05, 0x05, 0x01, 0xAA, .. new byte[16]];
        Assert.Single(FrameTestCodec.DecodeAll(valid));
        byte[] invalid = [0x18, 0x05, 0x06, 0x01, 0xAA, .. new byte[16]];
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails(invalid).Code);
    }

    [Fact]
    public void Path_data_shorter_than_8_bytes_is_a_frame_encoding_error()
    {
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails([0x1a, 1, 2, 3, 4, 5, 6, 7]).Code);
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails([0x1b, 1, 2, 3, 4, 5, 6, 7]).Code);
    }

    [Fact]
    public void Ping_and_handshake_done_are_one_byte()
    {
        Assert.Equal([0x01], FrameTestCodec.Write((ref SpanWriter w) => default(PingFrame).Encode(ref w)));
        Assert.Equal([0x1e], FrameTestCodec.Write((ref SpanWriter w) => default(HandshakeDoneFrame).Encode(ref w)));
        Assert.Equal([FrameType.Ping, FrameType.HandshakeDone, FrameType.Ping], FrameTestCodec.DecodeAll([0x01, 0x1e, 0x01]));
    }

    [Fact]
    public void Padding_run_decodes_as_one_frame_and_stops_at_the_next_frame()
    {
        byte[] payload = [0x01, 0, 0, 0, 0, 0x01, 0, 0];
        Assert.Equal([FrameType.Ping, FrameType.Padding, FrameType.Ping, FrameType.Padding], FrameTestCodec.DecodeAll(payload));

        var reader = new SpanReader(payload.AsSpan(1));
        Assert.Equal(FrameType.Padding, FrameTypes.Read(ref reader, out _));
        Assert.Equal(4, PaddingFrame.Decode(ref reader).Length);
        Assert.Equal(4, reader.Position);
    }

    [Fact]
    public void Write_padding_writes_zero_bytes()
    {
        byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) =>
        {
            w.WriteByte(0xFF);
            PaddingFrame.Write(ref w, 5);
        });
        Assert.Equal([0xFF, 0, 0, 0, 0, 0], bytes);
    }

    [Fact]
    public void Hand_computed_encodings_match_rfc_9000_layouts()
    {
        // Field values are the RFC 9000 §A.1 varint samples: 37 (0x25), 15293 (0x7bbd), 494878333 (0x9d7f3e7d).
        Assert.Equal([0x10, 0x80, 0x00, 0x40, 0x00], Encode(new MaxDataFrame(16384).Encode));
        Assert.Equal([0x04, 0x04, 0x25, 0x7b, 0xbd], Encode(new ResetStreamFrame(4, 37, 15293).Encode));
        Assert.Equal([0x05, 0x9d, 0x7f, 0x3e, 0x7d, 0x00], Encode(new StopSendingFrame(494878333, 0).Encode));
        Assert.Equal([0x13, 0x40, 0x64], Encode(new MaxStreamsFrame(false, 100).Encode));
        Assert.Equal([0x16, 0x0a], Encode(new StreamsBlockedFrame(true, 10).Encode));
        Assert.Equal([0x1a, 1, 2, 3, 4, 5, 6, 7, 8], Encode(new PathChallengeFrame(0x0102030405060708).Encode));
        Assert.Equal([0x19, 0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c], Encode(new RetireConnectionIdFrame(151288809941952652).Encode));

        byte[] token = [.. Enumerable.Range(0, 16).Select(i => (byte)i)];
        var newCid = new NewConnectionIdFrame(1, 0, new ConnectionId([0xaa, 0xbb, 0xcc, 0xdd]), new StatelessResetToken(token));
        Assert.Equal([0x18, 0x01, 0x00, 0x04, 0xaa, 0xbb, 0xcc, 0xdd, .. token], Encode(newCid.Encode));
    }

    [Fact]
    public void Field_varints_need_not_be_minimal()
    {
        var reader = new SpanReader([0x10, 0x40, 0x05]);
        Assert.Equal(FrameType.MaxData, FrameTypes.Read(ref reader, out _));
        Assert.Equal(5UL, MaxDataFrame.Decode(ref reader).Maximum);
    }

    private delegate T DecodeBody<T>(ref SpanReader reader, ulong rawType);

    private static byte[] Encode(WriteAction write) => FrameTestCodec.Write(write);

    private static T RoundTrip<T>(FrameType expectedType, int expectedLength, WriteAction write, DecodeBody<T> decode)
    {
        byte[] bytes = FrameTestCodec.Write(write);
        Assert.Equal(expectedLength, bytes.Length);
        var reader = new SpanReader(bytes);
        Assert.Equal(expectedType, FrameTypes.Read(ref reader, out ulong rawType));
        T decoded = decode(ref reader, rawType);
        Assert.True(reader.IsEmpty);
        return decoded;
    }
}
