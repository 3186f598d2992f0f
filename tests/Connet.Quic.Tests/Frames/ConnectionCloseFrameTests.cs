using System.Text;
using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;

namespace Connet.Quic.Tests.Frames;

public class ConnectionCloseFrameTests
{
    [Fact]
    public void Transport_and_application_layouts_match_rfc_9000_19_19()
    {
        Assert.Equal([0x1c, 0x0a, 0x08, 0x01, (byte)'x'],
            FrameTestCodec.Write((ref SpanWriter w) => ConnectionCloseFrame.Encode(ref w, false, 0x0a, 0x08, "x"u8, 100)));
        Assert.Equal([0x1d, 0x2a, 0x00],
            FrameTestCodec.Write((ref SpanWriter w) => ConnectionCloseFrame.Encode(ref w, true, 42, 0x08, [], 100)));
    }

    [Theory]
    [InlineData(false, 0UL, 0UL)]
    [InlineData(false, 63UL, 64UL)]
    [InlineData(false, VarInt.MaxValue, 0x1eUL)]
    [InlineData(true, 64UL, 0UL)]
    [InlineData(true, VarInt.MaxValue, 0UL)]
    public void Round_trips(bool isApplication, ulong errorCode, ulong frameType)
    {
        byte[] reason = Encoding.UTF8.GetBytes("flow control went wrong: €");
        byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => new ConnectionCloseFrame(isApplication, errorCode, frameType, reason).Encode(ref w));
        Assert.Equal(new ConnectionCloseFrame(isApplication, errorCode, frameType, reason).EncodedLength, bytes.Length);

        var reader = new SpanReader(bytes);
        FrameType type = FrameTypes.Read(ref reader, out ulong rawType);
        Assert.Equal(isApplication ? FrameType.ConnectionCloseApplication : FrameType.ConnectionCloseTransport, type);
        ConnectionCloseFrame frame = ConnectionCloseFrame.Decode(ref reader, rawType);
        Assert.True(reader.IsEmpty);
        Assert.Equal(isApplication, frame.IsApplication);
        Assert.Equal(errorCode, frame.ErrorCode);
        Assert.Equal(frameType, frame.FrameType);
        Assert.True(frame.Reason.SequenceEqual(reason));
    }

    [Fact]
    public void Reason_is_truncated_to_fit_without_splitting_a_character()
    {
        // "ab€" is 61 62 E2 82 AC; the transport frame header is 1 + 1 + 1 + 1 (length) = 4 bytes.
        byte[] reason = Encoding.UTF8.GetBytes("ab€");
        for (int max = 4; max <= 9; max++)
        {
            int limit = max;
            byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => ConnectionCloseFrame.Encode(ref w, false, 1, 2, reason, limit));
            Assert.True(bytes.Length <= max);
            Assert.Equal(bytes.Length, ConnectionCloseFrame.EncodedLengthFor(false, 1, 2, reason, limit));

            var reader = new SpanReader(bytes);
            FrameTypes.Read(ref reader, out ulong rawType);
            string decoded = Encoding.UTF8.GetString(ConnectionCloseFrame.Decode(ref reader, rawType).Reason);
            Assert.Equal(max switch { 4 => "", 5 => "a", < 9 => "ab", _ => "ab€" }, decoded);
        }
    }

    [Fact]
    public void String_reason_overload_truncates_as_utf8()
    {
        byte[] bytes = FrameTestCodec.Write((ref SpanWriter w) => ConnectionCloseFrame.Encode(ref w, true, 0, 0, "ééé", 3 + 5));
        var reader = new SpanReader(bytes);
        FrameTypes.Read(ref reader, out ulong rawType);
        Assert.Equal("éé", Encoding.UTF8.GetString(ConnectionCloseFrame.Decode(ref reader, rawType).Reason));
    }

    [Fact]
    public void Budget_smaller_than_the_fixed_fields_is_a_caller_bug()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            FrameTestCodec.Write((ref SpanWriter w) => ConnectionCloseFrame.Encode(ref w, false, 1, 2, "x"u8, 3)));
    }

    [Fact]
    public void Reason_length_beyond_the_frame_is_a_frame_encoding_error()
    {
        QuicProtocolException ex = FrameTestCodec.DecodeFails([0x1c, 0x01, 0x00, 0x05, (byte)'a', (byte)'b']);
        Assert.Equal(TransportErrorCode.FrameEncodingError, ex.Code);
        Assert.Equal(0x1cUL, ex.FrameType);
    }

    [Fact]
    public void Truncate_utf8_handles_four_byte_characters()
    {
        byte[] text = Encoding.UTF8.GetBytes("a😀b");
        Assert.Equal("a", Encoding.UTF8.GetString(ConnectionCloseFrame.TruncateUtf8(text, 4)));
        Assert.Equal("a😀", Encoding.UTF8.GetString(ConnectionCloseFrame.TruncateUtf8(text, 5)));
        Assert.Equal("", Encoding.UTF8.GetString(ConnectionCloseFrame.TruncateUtf8(text, 0)));
    }
}
