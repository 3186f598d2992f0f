using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;

namespace Connet.Quic.Tests.Frames;

public class StreamAndCryptoFrameTests
{
    public static TheoryData<ulong> EdgeValues() => [0, 63, 64, 16383, 16384, VarInt.MaxValue - 3];

    [Fact]
    public void Stream_frame_bits_follow_rfc_9000_19_8()
    {
        byte[] data = "hi"u8.ToArray();
        Assert.Equal([0x0f, 0x04, 0x25, 0x02, 0x68, 0x69],
            FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, 4, 37, data, fin: true, withLength: true)));
        Assert.Equal([0x08, 0x04, 0x68, 0x69],
            FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, 4, 0, data, fin: false, withLength: false)));
        Assert.Equal([0x0b, 0x00, 0x00],
            FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, 0, 0, [], fin: true, withLength: true)));
    }

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void Stream_frame_round_trips_with_every_flag_combination(ulong value)
    {
        byte[] data = [1, 2, 3];
        foreach (bool fin in new[] { false, true })
        {
            foreach (bool withLength in new[] { false, true })
            {
                byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, value, value, data, fin, withLength));
                Assert.Equal(StreamFrame.EncodedLengthFor(value, value, data.Length, withLength), bytes.Length);

                var reader = new SpanReader(bytes);
                Assert.Equal(FrameType.Stream, FrameTypes.Read(ref reader, out ulong rawType));
                Assert.Equal(value != 0, (rawType & StreamFrame.OffBit) != 0);
                StreamFrame frame = StreamFrame.Decode(ref reader, rawType);
                Assert.True(reader.IsEmpty);
                Assert.Equal(value, frame.StreamId);
                Assert.Equal(value, frame.Offset);
                Assert.Equal(fin, frame.Fin);
                Assert.True(frame.Data.SequenceEqual(data));
            }
        }
    }

    [Fact]
    public void Stream_frame_without_length_takes_the_rest_of_the_packet()
    {
        byte[] payload = [0x0c, 0x01, 0x40, 0x10, 0x01, 0x1e, 0x00];
        var reader = new SpanReader(payload);
        FrameTypes.Read(ref reader, out ulong rawType);
        StreamFrame frame = StreamFrame.Decode(ref reader, rawType);
        Assert.Equal(16UL, frame.Offset);
        Assert.Equal([0x01, 0x1e, 0x00], frame.Data.ToArray());
        Assert.True(reader.IsEmpty);
    }

    [Fact]
    public void Stream_data_ending_beyond_2_pow_62_is_a_frame_encoding_error()
    {
        byte[] atLimit = FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, 0, VarInt.MaxValue - 2, [1, 2], false, true));
        Assert.Single(FrameTestCodec.DecodeAll(atLimit));
        byte[] beyond = FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, 0, VarInt.MaxValue - 1, [1, 2], false, true));
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails(beyond).Code);
        byte[] beyondNoLength = FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, 0, VarInt.MaxValue, [1], false, false));
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails(beyondNoLength).Code);
    }

    [Fact]
    public void Stream_length_beyond_the_packet_is_a_frame_encoding_error()
    {
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails([0x0a, 0x00, 0x05, 1, 2, 3, 4]).Code);
    }

    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(4UL, 100UL)]
    [InlineData(16384UL, 1_000_000UL)]
    [InlineData(VarInt.MaxValue, VarInt.MaxValue - 5000)]
    public void Stream_max_data_length_is_the_largest_that_fits(ulong streamId, ulong offset)
    {
        for (int budget = 0; budget <= 20000; budget += budget < 200 ? 1 : 97)
        {
            foreach (bool withLength in new[] { false, true })
            {
                int max = StreamFrame.MaxDataLength(streamId, offset, budget, withLength);
                Assert.InRange(max, 0, budget);
                if (max > 0)
                {
                    Assert.True(StreamFrame.EncodedLengthFor(streamId, offset, max, withLength) <= budget);
                }

                bool oneMoreFits = StreamFrame.EncodedLengthFor(streamId, offset, max + 1, withLength) <= budget
                    && offset + (ulong)max + 1 <= VarInt.MaxValue;
                Assert.False(oneMoreFits, $"budget {budget}, withLength {withLength}: {max} is not maximal");
            }
        }
    }

    [Fact]
    public void Encode_header_and_reserve_leaves_room_for_the_data()
    {
        byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) =>
        {
            Span<byte> target = StreamFrame.EncodeHeaderAndReserve(ref w, 8, 1000, 3, fin: true, withLength: true);
            Assert.Equal(3, target.Length);
            "abc"u8.CopyTo(target);
        });
        byte[] direct = FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, 8, 1000, "abc"u8, true, true));
        Assert.Equal(direct, bytes);
    }

    [Theory]
    [MemberData(nameof(EdgeValues))]
    public void Crypto_frame_round_trips(ulong offset)
    {
        int length = (int)Math.Min(100, VarInt.MaxValue - offset);
        byte[] data = [.. Enumerable.Range(0, length).Select(i => (byte)i)];
        byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => CryptoFrame.Encode(ref w, offset, data));
        Assert.Equal(CryptoFrame.EncodedLengthFor(offset, data.Length), bytes.Length);
        var reader = new SpanReader(bytes);
        Assert.Equal(FrameType.Crypto, FrameTypes.Read(ref reader, out _));
        CryptoFrame frame = CryptoFrame.Decode(ref reader);
        Assert.True(reader.IsEmpty);
        Assert.Equal(offset, frame.Offset);
        Assert.True(frame.Data.SequenceEqual(data));
        Assert.Equal(bytes.Length, frame.EncodedLength);
    }

    [Fact]
    public void Crypto_frame_exact_bytes_and_offset_limit()
    {
        Assert.Equal([0x06, 0x00, 0x03, 1, 2, 3], FrameTestCodec.Write((ref SpanWriter w) => CryptoFrame.Encode(ref w, 0, [1, 2, 3])));
        byte[] beyond = FrameTestCodec.Write((ref SpanWriter w) => CryptoFrame.Encode(ref w, VarInt.MaxValue, [1]));
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails(beyond).Code);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(64UL)]
    [InlineData(1UL << 40)]
    public void Crypto_max_data_length_is_the_largest_that_fits(ulong offset)
    {
        for (int budget = 0; budget <= 20000; budget += budget < 200 ? 1 : 89)
        {
            int max = CryptoFrame.MaxDataLength(offset, budget);
            Assert.InRange(max, 0, budget);
            if (max > 0)
            {
                Assert.True(CryptoFrame.EncodedLengthFor(offset, max) <= budget);
            }

            Assert.True(CryptoFrame.EncodedLengthFor(offset, max + 1) > budget, $"budget {budget}: {max} is not maximal");
        }
    }
}
