using Connet.Quic.Core.Recovery;
using Connet.Quic.Core.Streams;

namespace Connet.Quic.Tests.Streams;

public class ControlFrameRecordTests
{
    private static readonly ControlFrame[] Frames =
    [
        new ControlFrame(ControlFrameKind.MaxData, 0, 12345),
        new ControlFrame(ControlFrameKind.MaxStreamData, 8, 777),
        new ControlFrame(ControlFrameKind.MaxStreamsBidi, 0, 10),
        new ControlFrame(ControlFrameKind.MaxStreamsUni, 0, 11),
        new ControlFrame(ControlFrameKind.DataBlocked, 0, 500),
        new ControlFrame(ControlFrameKind.StreamDataBlocked, 0, 600),
        new ControlFrame(ControlFrameKind.StreamsBlockedBidi, 0, 3),
        new ControlFrame(ControlFrameKind.StreamsBlockedUni, 0, 4),
        new ControlFrame(ControlFrameKind.ResetStream, 5, 42, 1000),
        new ControlFrame(ControlFrameKind.StopSending, 4, 9),
    ];

    [Fact]
    public void ControlFrames_SurviveTheSentFrameRecord()
    {
        foreach (ControlFrame frame in Frames)
        {
            SentFrame sent = ControlFrameRecord.ToSentFrame(frame);
            Assert.True(ControlFrameRecord.TryFromSentFrame(sent, out ControlFrame back));
            Assert.Equal(frame, back);
        }
    }

    [Fact]
    public void OtherRecords_AreNotControlFrames()
    {
        Assert.False(ControlFrameRecord.TryFromSentFrame(new SentFrame(SentFrameKind.Stream, 4, 0, 10, true), out _));
        Assert.False(ControlFrameRecord.TryFromSentFrame(new SentFrame(SentFrameKind.Ack, Value: 3), out _));
    }
}
