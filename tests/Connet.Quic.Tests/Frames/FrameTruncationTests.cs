using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;

namespace Connet.Quic.Tests.Frames;

public class FrameTruncationTests
{
    private static readonly byte[] Token16 = [.. Enumerable.Range(0, 16).Select(i => (byte)i)];

    /// <summary>One sample of every frame type whose encoding has an end a decoder can detect.</summary>
    public static TheoryData<string, byte[]> Samples()
    {
        const ulong big = 494878333;
        var data = new TheoryData<string, byte[]>
        {
            { "ACK", FrameTestCodec.Write((ref SpanWriter w) => AckFrame.Encode(ref w, [new(90, 100), new(10, 20), new(0, 5)], 16384, null)) },
            { "ACK_ECN", FrameTestCodec.Write((ref SpanWriter w) => AckFrame.Encode(ref w, [new(90, 100), new(0, 5)], 7, new EcnCounts(1, 64, big))) },
            { "RESET_STREAM", FrameTestCodec.Write(new ResetStreamFrame(big, 64, big).Encode) },
            { "STOP_SENDING", FrameTestCodec.Write(new StopSendingFrame(big, 64).Encode) },
            { "CRYPTO", FrameTestCodec.Write((ref SpanWriter w) => CryptoFrame.Encode(ref w, 64, [1, 2, 3])) },
            { "NEW_TOKEN", FrameTestCodec.Write((ref SpanWriter w) => new NewTokenFrame([9, 9, 9]).Encode(ref w)) },
            { "STREAM+OFF+LEN", FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, big, 16384, [1, 2, 3], true, true)) },
            { "STREAM+LEN", FrameTestCodec.Write((ref SpanWriter w) => StreamFrame.Encode(ref w, 64, 0, [1, 2], false, true)) },
            { "MAX_DATA", FrameTestCodec.Write(new MaxDataFrame(big).Encode) },
            { "MAX_STREAM_DATA", FrameTestCodec.Write(new MaxStreamDataFrame(64, big).Encode) },
            { "MAX_STREAMS", FrameTestCodec.Write(new MaxStreamsFrame(true, 16384).Encode) },
            { "DATA_BLOCKED", FrameTestCodec.Write(new DataBlockedFrame(big).Encode) },
            { "STREAM_DATA_BLOCKED", FrameTestCodec.Write(new StreamDataBlockedFrame(64, big).Encode) },
            { "STREAMS_BLOCKED", FrameTestCodec.Write(new StreamsBlockedFrame(false, 16384).Encode) },
            { "NEW_CONNECTION_ID", FrameTestCodec.Write(new NewConnectionIdFrame(64, 1, new ConnectionId([1, 2, 3, 4, 5, 6, 7, 8]), new StatelessResetToken(Token16)).Encode) },
            { "RETIRE_CONNECTION_ID", FrameTestCodec.Write(new RetireConnectionIdFrame(big).Encode) },
            { "PATH_CHALLENGE", FrameTestCodec.Write(new PathChallengeFrame(ulong.MaxValue).Encode) },
            { "PATH_RESPONSE", FrameTestCodec.Write(new PathResponseFrame(1).Encode) },
            { "CONNECTION_CLOSE", FrameTestCodec.Write((ref SpanWriter w) => ConnectionCloseFrame.Encode(ref w, false, 64, 0x08, "bye"u8, 100)) },
            { "CONNECTION_CLOSE_APP", FrameTestCodec.Write((ref SpanWriter w) => ConnectionCloseFrame.Encode(ref w, true, big, 0, "bye"u8, 100)) },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_truncation_point_is_a_frame_encoding_error(string name, byte[] frame)
    {
        Assert.Single(FrameTestCodec.DecodeAll(frame));
        for (int length = 1; length < frame.Length; length++)
        {
            QuicProtocolException ex = FrameTestCodec.DecodeFails(frame[..length]);
            Assert.True(ex.Code == TransportErrorCode.FrameEncodingError, $"{name} cut at {length}: {ex.Code}");
            Assert.Equal(frame[0], ex.FrameType);
        }
    }

    [Fact]
    public void Samples_cover_every_frame_type_with_a_body()
    {
        var covered = new HashSet<FrameType>();
        foreach (object[] row in Samples())
        {
            covered.UnionWith(FrameTestCodec.DecodeAll((byte[])row[1]));
        }

        covered.Add(FrameType.MaxStreamsUni);
        covered.Add(FrameType.StreamsBlockedBidi);
        var bodiless = new[] { FrameType.Padding, FrameType.Ping, FrameType.HandshakeDone };
        Assert.Equal(Enum.GetValues<FrameType>().Except(bodiless).Order(), covered.Order());
    }
}
