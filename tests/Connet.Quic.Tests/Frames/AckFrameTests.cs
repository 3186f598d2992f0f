using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;

namespace Connet.Quic.Tests.Frames;

public class AckFrameTests
{
    [Fact]
    public void Ranges_encode_as_gaps_and_lengths_per_rfc_9000_19_3_1()
    {
        AckRange[] ranges = [new(95, 100), new(80, 90), new(0, 10)];
        byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => AckFrame.Encode(ref w, ranges, ackDelay: 7, ecn: null));

        // largest 100 (2-byte varint), delay 7, 2 more ranges, first range 5, then gap 90→95 = 3, length 10,
        // gap 10→80 = 68 (2-byte varint), length 10.
        Assert.Equal([0x02, 0x40, 0x64, 0x07, 0x02, 0x05, 0x03, 0x0a, 0x40, 0x44, 0x0a], bytes);
        Assert.Equal(bytes.Length, AckFrame.EncodedLengthFor(ranges, 7, null));
    }

    [Fact]
    public void Decode_exposes_fields_and_enumerates_ranges_from_the_top()
    {
        AckRange[] ranges = [new(95, 100), new(80, 90), new(40, 40), new(0, 10)];
        byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => AckFrame.Encode(ref w, ranges, ackDelay: 1234, ecn: null));

        var reader = new SpanReader(bytes);
        Assert.Equal(FrameType.Ack, FrameTypes.Read(ref reader, out ulong rawType));
        AckFrame ack = AckFrame.Decode(ref reader, rawType);
        Assert.True(reader.IsEmpty);
        Assert.Equal(100UL, ack.LargestAcknowledged);
        Assert.Equal(1234UL, ack.AckDelay);
        Assert.Equal(5UL, ack.FirstAckRange);
        Assert.Equal(3UL, ack.RangeCount);
        Assert.False(ack.HasEcn);
        Assert.Null(ack.Ecn);
        Assert.Equal(bytes.Length, ack.EncodedLength);

        var seen = new List<AckRange>();
        foreach (AckRange range in ack.GetRanges())
        {
            seen.Add(range);
        }

        Assert.Equal(ranges, seen);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(63UL)]
    [InlineData(64UL)]
    [InlineData(VarInt.MaxValue)]
    public void Ecn_counts_and_edge_packet_numbers_round_trip(ulong value)
    {
        AckRange[] ranges = value >= 10 ? [new(value - 1, value), new(0, 0)] : [new(0, value)];
        var ecn = new EcnCounts(value, 1, VarInt.MaxValue);
        byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => AckFrame.Encode(ref w, ranges, value, ecn));
        Assert.Equal(AckFrame.EncodedLengthFor(ranges, value, ecn), bytes.Length);

        var reader = new SpanReader(bytes);
        Assert.Equal(FrameType.AckEcn, FrameTypes.Read(ref reader, out ulong rawType));
        AckFrame ack = AckFrame.Decode(ref reader, rawType);
        Assert.True(reader.IsEmpty);
        Assert.Equal(ecn, ack.Ecn);
        Assert.Equal(value, ack.AckDelay);

        var seen = new List<AckRange>();
        foreach (AckRange range in ack.GetRanges())
        {
            seen.Add(range);
        }

        Assert.Equal(ranges, seen);

        // Re-encoding a decoded frame gives back the same bytes.
        var copy = new byte[bytes.Length];
        var writer = new SpanWriter(copy);
        ack.Encode(ref writer);
        Assert.Equal(bytes, copy);
    }

    [Fact]
    public void Ack_delay_scales_by_the_exponent_and_saturates()
    {
        byte[] small = [0x02, 0x05, 0x0a, 0x00, 0x00];
        var reader = new SpanReader(small);
        FrameTypes.Read(ref reader, out ulong rawType);
        Assert.Equal(80UL, AckFrame.Decode(ref reader, rawType).AckDelayMicroseconds(3));

        byte[] huge = FrameTestCodec.Write((ref SpanWriter w) => AckFrame.Encode(ref w, [new(0, 5)], VarInt.MaxValue, null));
        reader = new SpanReader(huge);
        FrameTypes.Read(ref reader, out rawType);
        AckFrame ack = AckFrame.Decode(ref reader, rawType);
        Assert.Equal(VarInt.MaxValue, ack.AckDelayMicroseconds(0));
        Assert.Equal(ulong.MaxValue, ack.AckDelayMicroseconds(20));
    }

    [Fact]
    public void First_range_larger_than_largest_is_rejected()
    {
        // largest 5, first range 6 would acknowledge packet -1.
        QuicProtocolException ex = FrameTestCodec.DecodeFails([0x02, 0x05, 0x00, 0x00, 0x06]);
        Assert.Equal(TransportErrorCode.FrameEncodingError, ex.Code);
        Assert.Equal(0x02UL, ex.FrameType);
        Assert.Single(FrameTestCodec.DecodeAll([0x02, 0x05, 0x00, 0x00, 0x05]));
    }

    [Fact]
    public void Gap_that_underflows_is_rejected()
    {
        // Range [3, 5]; a gap of 2 puts the next largest at 3 - 2 - 2 = -1.
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails([0x02, 0x05, 0x00, 0x01, 0x02, 0x02, 0x00]).Code);

        // A gap of 1 puts it at 0, which is fine with length 0 ...
        Assert.Single(FrameTestCodec.DecodeAll([0x02, 0x05, 0x00, 0x01, 0x02, 0x01, 0x00]));

        // ... but length 1 would go below 0.
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails([0x02, 0x05, 0x00, 0x01, 0x02, 0x01, 0x01]).Code);
    }

    [Fact]
    public void Huge_range_count_with_little_data_fails_fast_as_truncation()
    {
        byte[] bytes = [0x03, 0x3f, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00];
        Assert.Equal(TransportErrorCode.FrameEncodingError, FrameTestCodec.DecodeFails(bytes).Code);
    }

    [Fact]
    public void Encoding_rejects_ranges_that_are_not_descending_and_separated()
    {
        Assert.Throws<ArgumentException>(() => Encode([]));
        Assert.Throws<ArgumentException>(() => Encode([new(5, 4)]));
        Assert.Throws<ArgumentException>(() => Encode([new(10, 12), new(5, 9)])); // adjacent: should be one range
        Assert.Throws<ArgumentException>(() => Encode([new(10, 12), new(5, 10)])); // overlapping
        Assert.Throws<ArgumentException>(() => Encode([new(1, 2), new(5, 9)])); // ascending
        Assert.NotEmpty(Encode([new(10, 12), new(5, 8)]));
    }

    private static byte[] Encode(AckRange[] ranges) =>
        FrameTestCodec.Write((ref SpanWriter w) => AckFrame.Encode(ref w, ranges, 0, null));
}
