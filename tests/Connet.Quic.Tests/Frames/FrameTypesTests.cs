using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;

namespace Connet.Quic.Tests.Frames;

public class FrameTypesTests
{
    [Fact]
    public void Read_maps_every_defined_type_and_folds_stream_types()
    {
        for (ulong raw = 0; raw <= 0x1e; raw++)
        {
            var reader = new SpanReader([(byte)raw]);
            FrameType type = FrameTypes.Read(ref reader, out ulong rawType);
            Assert.Equal(raw, rawType);
            Assert.Equal(raw is >= 0x08 and <= 0x0f ? FrameType.Stream : (FrameType)raw, type);
            Assert.True(reader.IsEmpty);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x40, 0x01 })]
    [InlineData(new byte[] { 0x40, 0x00 })]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x06 })]
    [InlineData(new byte[] { 0xC0, 0, 0, 0, 0, 0, 0, 0x1e })]
    [InlineData(new byte[] { 0x40, 0x1f })] // non-minimal wins over unknown
    public void Non_minimal_frame_type_is_a_protocol_violation(byte[] bytes)
    {
        var ex = Assert.Throws<QuicProtocolException>(() =>
        {
            var reader = new SpanReader(bytes);
            FrameTypes.Read(ref reader, out _);
        });
        Assert.Equal(TransportErrorCode.ProtocolViolation, ex.Code);
    }

    [Theory]
    [InlineData(new byte[] { 0x1f }, 0x1fUL)]
    [InlineData(new byte[] { 0x30 }, 0x30UL)]
    [InlineData(new byte[] { 0x40, 0x40 }, 0x40UL)]
    [InlineData(new byte[] { 0x80, 0x00, 0x40, 0x00 }, 0x4000UL)]
    public void Unknown_frame_type_is_a_frame_encoding_error(byte[] bytes, ulong raw)
    {
        var ex = Assert.Throws<QuicProtocolException>(() =>
        {
            var reader = new SpanReader(bytes);
            FrameTypes.Read(ref reader, out _);
        });
        Assert.Equal(TransportErrorCode.FrameEncodingError, ex.Code);
        Assert.Equal(raw, ex.FrameType);
    }

    [Fact]
    public void Truncated_frame_type_is_a_frame_encoding_error()
    {
        var ex = Assert.Throws<QuicProtocolException>(() =>
        {
            var reader = new SpanReader([0x80, 0x00]);
            FrameTypes.Read(ref reader, out _);
        });
        Assert.Equal(TransportErrorCode.FrameEncodingError, ex.Code);
    }

    [Fact]
    public void Initial_and_handshake_allow_only_table_3_frames()
    {
        FrameType[] allowed = [FrameType.Padding, FrameType.Ping, FrameType.Ack, FrameType.AckEcn, FrameType.Crypto, FrameType.ConnectionCloseTransport];
        foreach (FrameType type in Enum.GetValues<FrameType>())
        {
            Assert.Equal(allowed.Contains(type), FrameTypes.IsAllowedAt(type, EncryptionLevel.Initial));
            Assert.Equal(allowed.Contains(type), FrameTypes.IsAllowedAt(type, EncryptionLevel.Handshake));
            Assert.True(FrameTypes.IsAllowedAt(type, EncryptionLevel.OneRtt));
        }

        Assert.False(FrameTypes.IsAllowedAt(FrameType.ConnectionCloseApplication, EncryptionLevel.Initial));
    }

    [Fact]
    public void Ack_padding_and_close_are_the_only_non_ack_eliciting_frames()
    {
        FrameType[] nonEliciting = [FrameType.Ack, FrameType.AckEcn, FrameType.Padding, FrameType.ConnectionCloseTransport, FrameType.ConnectionCloseApplication];
        foreach (FrameType type in Enum.GetValues<FrameType>())
        {
            Assert.Equal(!nonEliciting.Contains(type), FrameTypes.IsAckEliciting(type));
        }
    }

    [Fact]
    public void Stream_range_is_0x08_to_0x0f()
    {
        Assert.False(FrameTypes.IsStream(0x07));
        for (ulong raw = 0x08; raw <= 0x0f; raw++)
        {
            Assert.True(FrameTypes.IsStream(raw));
        }

        Assert.False(FrameTypes.IsStream(0x10));
    }

    [Fact]
    public void Probing_and_server_only_classification()
    {
        Assert.True(FrameTypes.IsProbing(FrameType.PathChallenge));
        Assert.True(FrameTypes.IsProbing(FrameType.PathResponse));
        Assert.True(FrameTypes.IsProbing(FrameType.NewConnectionId));
        Assert.True(FrameTypes.IsProbing(FrameType.Padding));
        Assert.False(FrameTypes.IsProbing(FrameType.Ping));
        Assert.True(FrameTypes.IsSentOnlyByServer(FrameType.HandshakeDone));
        Assert.True(FrameTypes.IsSentOnlyByServer(FrameType.NewToken));
        Assert.False(FrameTypes.IsSentOnlyByServer(FrameType.Stream));
    }
}
