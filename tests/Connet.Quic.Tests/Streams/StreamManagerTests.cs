using Connet.Quic.Core;
using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Streams;
using static Connet.Quic.Tests.Streams.StreamTestKit;

namespace Connet.Quic.Tests.Streams;

public class StreamManagerTests
{
    private static TransportErrorCode ErrorOf(Action action) => Assert.Throws<QuicProtocolException>(action).Code;

    private static ulong Open(StreamManager manager, bool bidirectional)
    {
        Assert.True(manager.TryOpen(bidirectional, out ulong id));
        return id;
    }

    [Fact]
    public void StreamIds_EncodeInitiatorAndDirectionInTheLowBits()
    {
        var (client, server) = CreatePair();
        Assert.Equal(0UL, Open(client, true));
        Assert.Equal(4UL, Open(client, true));
        Assert.Equal(2UL, Open(client, false));
        Assert.Equal(6UL, Open(client, false));
        Assert.Equal(1UL, Open(server, true));
        Assert.Equal(3UL, Open(server, false));
        Assert.Equal(5UL, Open(server, true));
        Assert.Equal(7UL, Open(server, false));
    }

    [Fact]
    public void PeerStream_ImplicitlyOpensAllLowerStreamsOfItsType_InOrder()
    {
        var (_, server) = CreatePair();
        server.OnStreamFrame(8, 0, new byte[] { 1, 2, 3 }, fin: false);
        server.OnStreamFrame(4, 0, new byte[] { 9 }, fin: false);

        Assert.Equal(
            [
                new ConnectionEvent(ConnectionEventKind.StreamOpened, 0),
                new ConnectionEvent(ConnectionEventKind.StreamOpened, 4),
                new ConnectionEvent(ConnectionEventKind.StreamOpened, 8),
                new ConnectionEvent(ConnectionEventKind.StreamReadable, 8),
                new ConnectionEvent(ConnectionEventKind.StreamReadable, 4),
            ],
            DrainEvents(server));
        Assert.Equal(3, server.OpenStreamCount);
        Assert.Equal(0, server.Read(0, new byte[10], out bool fin));
        Assert.False(fin);
    }

    [Fact]
    public void StreamFrame_OnOurSendOnlyStream_IsStreamStateError()
    {
        var (client, _) = CreatePair();
        ulong uni = Open(client, false);
        Assert.Equal(TransportErrorCode.StreamStateError, ErrorOf(() => client.OnStreamFrame(uni, 0, new byte[1], false)));
        Assert.Equal(TransportErrorCode.StreamStateError, ErrorOf(() => client.OnResetStream(uni, 0, 0)));
        Assert.Equal(TransportErrorCode.StreamStateError, ErrorOf(() => client.OnStreamDataBlocked(uni, 0)));
    }

    [Fact]
    public void Frames_ForALocallyInitiatedStreamNeverOpened_AreStreamStateError()
    {
        var (client, _) = CreatePair();
        Open(client, true); // stream 0 exists, 4 does not
        Assert.Equal(TransportErrorCode.StreamStateError, ErrorOf(() => client.OnStreamFrame(4, 0, new byte[1], false)));
        Assert.Equal(TransportErrorCode.StreamStateError, ErrorOf(() => client.OnMaxStreamData(4, 10)));
        Assert.Equal(TransportErrorCode.StreamStateError, ErrorOf(() => client.OnStopSending(4, 0)));
    }

    [Fact]
    public void SendSideFrames_OnThePeersSendOnlyStream_AreStreamStateError()
    {
        var (_, server) = CreatePair();
        Assert.Equal(TransportErrorCode.StreamStateError, ErrorOf(() => server.OnMaxStreamData(2, 10)));
        Assert.Equal(TransportErrorCode.StreamStateError, ErrorOf(() => server.OnStopSending(2, 0)));
    }

    [Fact]
    public void PeerStream_BeyondTheAdvertisedLimit_IsStreamLimitError()
    {
        var (_, server) = CreatePair(); // the peer may open 3 bidirectional and 2 unidirectional streams
        server.OnStreamFrame(8, 0, new byte[1], false);
        Assert.Equal(TransportErrorCode.StreamLimitError, ErrorOf(() => server.OnStreamFrame(12, 0, new byte[1], false)));
        server.OnStreamFrame(6, 0, new byte[1], false);
        Assert.Equal(TransportErrorCode.StreamLimitError, ErrorOf(() => server.OnStreamFrame(10, 0, new byte[1], false)));
        Assert.Equal(TransportErrorCode.StreamLimitError, ErrorOf(() => server.OnMaxStreamData(12, 10)));
    }

    [Fact]
    public void StreamData_BeyondTheStreamWindow_IsFlowControlError()
    {
        var (_, server) = CreatePair();
        server.OnStreamFrame(0, 50, new byte[50], false);
        Assert.Equal(TransportErrorCode.FlowControlError, ErrorOf(() => server.OnStreamFrame(0, 50, new byte[51], false)));
        Assert.Equal(TransportErrorCode.FlowControlError, ErrorOf(() => server.OnResetStream(4, 0, 101)));
    }

    [Fact]
    public void StreamData_BeyondTheConnectionWindow_IsFlowControlError_CountingHighestOffsetsOnly()
    {
        var limits = DefaultLimits with { MaxData = 150 };
        var (_, server) = CreatePair(serverLimits: limits);
        server.OnStreamFrame(0, 0, new byte[100], false);
        server.OnStreamFrame(0, 0, new byte[100], false); // a retransmission costs nothing more
        server.OnStreamFrame(4, 20, new byte[30], false); // highest offset 50: the gap counts (§4.5)
        Assert.Equal(TransportErrorCode.FlowControlError, ErrorOf(() => server.OnStreamFrame(8, 0, new byte[1], false)));
    }

    [Fact]
    public void ResetStream_FinalSizeBeyondTheConnectionWindow_IsFlowControlError()
    {
        var limits = DefaultLimits with { MaxData = 150 };
        var (_, server) = CreatePair(serverLimits: limits);
        server.OnStreamFrame(0, 0, new byte[100], false);
        Assert.Equal(TransportErrorCode.FlowControlError, ErrorOf(() => server.OnResetStream(4, 0, 51)));
    }

    [Fact]
    public void FinalSize_Violations_AreFinalSizeErrors()
    {
        var (_, server) = CreatePair();

        // Data beyond the final size given by FIN.
        server.OnStreamFrame(0, 0, new byte[10], fin: true);
        Assert.Equal(TransportErrorCode.FinalSizeError, ErrorOf(() => server.OnStreamFrame(0, 10, new byte[1], false)));

        // A second FIN with a different final size.
        Assert.Equal(TransportErrorCode.FinalSizeError, ErrorOf(() => server.OnStreamFrame(0, 0, new byte[5], fin: true)));

        // RESET_STREAM whose final size contradicts the FIN.
        Assert.Equal(TransportErrorCode.FinalSizeError, ErrorOf(() => server.OnResetStream(0, 1, 11)));

        // FIN / RESET_STREAM below data already received.
        server.OnStreamFrame(4, 40, new byte[10], false);
        Assert.Equal(TransportErrorCode.FinalSizeError, ErrorOf(() => server.OnStreamFrame(4, 0, new byte[20], fin: true)));
        Assert.Equal(TransportErrorCode.FinalSizeError, ErrorOf(() => server.OnResetStream(4, 1, 49)));

        // Data after RESET_STREAM beyond its final size.
        server.OnResetStream(8, 1, 30);
        server.OnStreamFrame(8, 0, new byte[30], false);
        Assert.Equal(TransportErrorCode.FinalSizeError, ErrorOf(() => server.OnStreamFrame(8, 30, new byte[1], false)));
        Assert.Equal(TransportErrorCode.FinalSizeError, ErrorOf(() => server.OnResetStream(8, 1, 31)));
    }

    [Fact]
    public void WriterBlockedByPeerStreamCredit_IsUnblockedByMaxStreamData_WithOneWritableEvent()
    {
        var (client, server) = CreatePair();
        ulong id = Open(client, true);
        Assert.Equal(100, client.Write(id, new byte[150], false));
        Assert.Equal(0, client.Write(id, new byte[50], false));
        Assert.Contains(new ControlFrame(ControlFrameKind.StreamDataBlocked, id, 100), DrainControlFrames(client));

        Flush(client, server);
        Assert.Empty(DrainEvents(client));
        client.OnMaxStreamData(id, 120);
        client.OnMaxStreamData(id, 130);
        Assert.Equal([new ConnectionEvent(ConnectionEventKind.StreamWritable, (long)id)], DrainEvents(client));
        Assert.Equal(30, client.Write(id, new byte[50], false));
        StreamSendCandidate next = SendNext(client, 1000, out _);
        Assert.Equal(new StreamSendCandidate(id, 100, 30, false), next);
    }

    [Fact]
    public void ConnectionCredit_LimitsNewDataAcrossStreams_AndQueuesDataBlocked()
    {
        var (client, server) = CreatePair(serverLimits: DefaultLimits with { MaxData = 150 });
        ulong a = Open(client, true);
        ulong b = Open(client, true);
        client.Write(a, new byte[100], false);
        client.Write(b, new byte[100], false);
        Flush(client, server);

        Assert.False(client.HasPendingStreamData);
        Assert.False(client.TryPeekSend(1000, out _));
        Assert.Contains(new ControlFrame(ControlFrameKind.DataBlocked, 0, 150), DrainControlFrames(client));
        client.OnMaxData(160);
        Assert.Equal(new StreamSendCandidate(b, 50, 10, false), SendNext(client, 1000, out _));
    }

    [Fact]
    public void StreamLimit_RefusesOpen_QueuesStreamsBlockedOnce_AndReportsStreamsAvailable()
    {
        var (client, _) = CreatePair();
        Open(client, true);
        Open(client, true);
        Open(client, true);
        Assert.False(client.TryOpen(true, out _));
        Assert.False(client.TryOpen(true, out _));
        Assert.Equal([new ControlFrame(ControlFrameKind.StreamsBlockedBidi, 0, 3)], DrainControlFrames(client));

        client.OnMaxStreams(true, 4);
        client.OnMaxStreams(true, 4);
        Assert.Equal([new ConnectionEvent(ConnectionEventKind.StreamsAvailable, 0)], DrainEvents(client));
        Assert.Equal(12UL, Open(client, true));
        Assert.False(client.TryOpen(true, out _));
        Assert.Equal(TransportErrorCode.FrameEncodingError, ErrorOf(() => client.OnMaxStreams(false, (1UL << 60) + 1)));
    }

    [Fact]
    public void StopSending_QueuesResetStreamWithTheSentSize_AndReportsStreamStopped()
    {
        var (client, server) = CreatePair();
        ulong id = Open(client, true);
        client.Write(id, new byte[80], false);
        SendNext(client, 30, out _);

        client.OnStopSending(id, 7);
        Assert.Equal([new ConnectionEvent(ConnectionEventKind.StreamStopped, (long)id, 7)], DrainEvents(client));
        Assert.Equal([new ControlFrame(ControlFrameKind.ResetStream, id, 7, 30)], DrainControlFrames(client));
        Assert.False(client.HasPendingStreamData);
        Assert.Throws<InvalidOperationException>(() => client.Write(id, new byte[1], false));

        // Lost RESET_STREAM is sent again until acknowledged.
        var reset = new ControlFrame(ControlFrameKind.ResetStream, id, 7, 30);
        client.OnControlFrameLost(reset);
        Assert.Equal([reset], DrainControlFrames(client));
        client.OnControlFrameAcked(reset);
        client.OnControlFrameLost(reset);
        Assert.Empty(DrainControlFrames(client));
        _ = server;
    }

    [Fact]
    public void ResetStream_ReportsTheErrorCode_ReadFails_AndTheWindowIsGivenBack()
    {
        var (_, server) = CreatePair(serverLimits: DefaultLimits with { MaxData = 100 });
        server.OnStreamFrame(0, 0, new byte[20], false);
        server.OnResetStream(0, 9, 60);
        server.OnResetStream(0, 9, 60);
        List<ConnectionEvent> events = DrainEvents(server);
        Assert.Equal(new ConnectionEvent(ConnectionEventKind.StreamReset, 0, 9), events[^1]);
        Assert.Single(events, e => e.Kind == ConnectionEventKind.StreamReset);
        Assert.Throws<InvalidOperationException>(() => server.Read(0, new byte[10], out _));

        // The 60 bytes are consumed for connection flow control: MAX_DATA grows to 160.
        Assert.Contains(new ControlFrame(ControlFrameKind.MaxData, 0, 160), DrainControlFrames(server));
    }

    [Fact]
    public void LostStreamData_IsRetransmittedFromTheLostOffset_BeforeNewData()
    {
        var (client, _) = CreatePair(serverLimits: DefaultLimits with { MaxStreamDataBidiRemote = 10_000, MaxData = 10_000 });
        ulong a = Open(client, true);
        ulong b = Open(client, true);
        client.Write(a, new byte[300], false);
        client.Write(b, new byte[300], false);
        Assert.Equal(new StreamSendCandidate(a, 0, 100, false), SendNext(client, 100, out _));
        Assert.Equal(new StreamSendCandidate(b, 0, 100, false), SendNext(client, 100, out _));
        Assert.Equal(new StreamSendCandidate(a, 100, 100, false), SendNext(client, 100, out _));

        client.OnStreamDataLost(a, 100, 100, false);
        client.OnStreamDataLost(a, 0, 100, false);
        Assert.Equal(new StreamSendCandidate(a, 0, 60, false), SendNext(client, 60, out _));
        Assert.Equal(new StreamSendCandidate(a, 60, 140, false), SendNext(client, 1000, out _));
        Assert.Equal(new StreamSendCandidate(b, 100, 200, false), SendNext(client, 1000, out _));
    }

    [Fact]
    public void RetransmittedBytes_CarryTheOriginalContent()
    {
        var (client, server) = CreatePair();
        ulong id = Open(client, false);
        byte[] payload = Enumerable.Range(0, 50).Select(i => (byte)i).ToArray();
        client.Write(id, payload, fin: true);
        StreamSendCandidate first = SendNext(client, 1000, out _);
        Assert.True(first.Fin);
        client.OnStreamDataLost(id, 0, 50, true);

        StreamSendCandidate again = SendNext(client, 1000, out byte[] data);
        Assert.Equal(first, again);
        server.OnStreamFrame(again.StreamId, again.Offset, data, again.Fin);
        var read = new byte[100];
        Assert.Equal(50, server.Read(id, read, out bool fin));
        Assert.True(fin);
        Assert.Equal(payload, read.AsSpan(0, 50).ToArray());
    }

    [Fact]
    public void AcknowledgedData_FreesSendMemory_AndCompletesTheStream()
    {
        var (client, _) = CreatePair(serverLimits: DefaultLimits with { MaxStreamDataUni = 100_000, MaxData = 100_000 });
        ulong id = Open(client, false);
        client.Write(id, new byte[3 * PooledChunkStore.ChunkSize], fin: true);
        var sent = new List<StreamSendCandidate>();
        while (client.TryPeekSend(1200, out StreamSendCandidate candidate))
        {
            client.CommitSend(candidate, new byte[candidate.MaxLength], candidate.Fin);
            sent.Add(candidate);
        }

        foreach (StreamSendCandidate candidate in sent)
        {
            client.OnStreamDataAcked(candidate.StreamId, candidate.Offset, candidate.MaxLength, candidate.Fin);
        }

        Assert.Equal([new ConnectionEvent(ConnectionEventKind.StreamWritesCompleted, (long)id)], DrainEvents(client));
        client.Release(id);
        Assert.Equal(0, client.OpenStreamCount);
    }

    [Fact]
    public void StreamsWithData_ShareTheLinkRoundRobin()
    {
        var (client, _) = CreatePair();
        ulong[] ids = [Open(client, true), Open(client, true), Open(client, false)];
        foreach (ulong id in ids)
        {
            client.Write(id, new byte[100], false);
        }

        var order = new List<ulong>();
        for (int i = 0; i < 9; i++)
        {
            order.Add(SendNext(client, 30, out _).StreamId);
        }

        Assert.Equal([0UL, 4UL, 2UL, 0UL, 4UL, 2UL, 0UL, 4UL, 2UL], order);
    }

    [Fact]
    public void ReadingHalfTheWindow_AdvertisesCurrentMaxStreamDataAndMaxData()
    {
        var (_, server) = CreatePair(serverLimits: DefaultLimits with { MaxData = 200 });
        server.OnStreamFrame(0, 0, new byte[100], false);
        server.OnStreamFrame(4, 0, new byte[100], false);
        Assert.Equal(49, server.Read(0, new byte[49], out _));
        Assert.Empty(DrainControlFrames(server));

        Assert.Equal(1, server.Read(0, new byte[1], out _));
        Assert.True(server.HasPendingControlFrames);
        Assert.Equal(30, server.Read(0, new byte[30], out _));
        Assert.Equal(50, server.Read(4, new byte[50], out _));

        // Values are the ones current when dequeued: stream 0 read 80 (+100), the connection 130 (+200).
        List<ControlFrame> frames = DrainControlFrames(server);
        Assert.Contains(new ControlFrame(ControlFrameKind.MaxStreamData, 0, 180), frames);
        Assert.Contains(new ControlFrame(ControlFrameKind.MaxStreamData, 4, 150), frames);
        Assert.Contains(new ControlFrame(ControlFrameKind.MaxData, 0, 330), frames);
        Assert.Equal(3, frames.Count);

        // The new window is enforced.
        server.OnStreamFrame(0, 100, new byte[80], false);
        Assert.Equal(TransportErrorCode.FlowControlError, ErrorOf(() => server.OnStreamFrame(0, 180, new byte[1], false)));
    }

    [Fact]
    public void LostMaxStreamData_IsResentWithTheCurrentValue()
    {
        var (_, server) = CreatePair();
        server.OnStreamFrame(0, 0, new byte[100], false);
        server.Read(0, new byte[60], out _);
        ControlFrame sent = Assert.Single(DrainControlFrames(server), f => f.Kind == ControlFrameKind.MaxStreamData);
        Assert.Equal(160UL, sent.Value);

        server.Read(0, new byte[10], out _);
        server.OnControlFrameLost(sent);
        Assert.Contains(new ControlFrame(ControlFrameKind.MaxStreamData, 0, 170), DrainControlFrames(server));

        // A lost frame that was superseded is not resent.
        server.OnControlFrameLost(sent);
        Assert.DoesNotContain(DrainControlFrames(server), f => f.Kind == ControlFrameKind.MaxStreamData);
    }

    [Fact]
    public void ReadableEvents_AreNotRepeatedUntilTheApplicationReads()
    {
        var (_, server) = CreatePair();
        server.OnStreamFrame(0, 0, new byte[10], false);
        server.OnStreamFrame(0, 10, new byte[10], false);
        server.OnStreamFrame(0, 20, new byte[10], false);
        Assert.Single(DrainEvents(server), e => e.Kind == ConnectionEventKind.StreamReadable);

        server.Read(0, new byte[5], out _);
        server.OnStreamFrame(0, 30, new byte[10], false);
        Assert.Equal([new ConnectionEvent(ConnectionEventKind.StreamReadable, 0)], DrainEvents(server));
    }

    [Fact]
    public void ReleasingPeerStreams_RaisesMaxStreams()
    {
        var (client, server) = CreatePair();
        ulong uni = Open(client, false);
        client.Write(uni, new byte[10], fin: true);
        ulong bidi = Open(client, true);
        client.Write(bidi, new byte[10], fin: true);
        Flush(client, server);

        Assert.Equal(10, server.Read(uni, new byte[100], out bool fin));
        Assert.True(fin);
        server.Release(uni);
        Assert.Equal([new ControlFrame(ControlFrameKind.MaxStreamsUni, 0, 3)], DrainControlFrames(server));

        // A bidirectional stream is freed once our own half is done too (here: reset by Release, then acknowledged).
        server.Read(bidi, new byte[100], out _);
        server.Release(bidi);
        ControlFrame reset = Assert.Single(DrainControlFrames(server));
        Assert.Equal(ControlFrameKind.ResetStream, reset.Kind);
        Assert.Equal(1, server.OpenStreamCount);
        server.OnControlFrameAcked(reset);
        Assert.Equal([new ControlFrame(ControlFrameKind.MaxStreamsBidi, 0, 4)], DrainControlFrames(server));
        Assert.Equal(0, server.OpenStreamCount);

        // Late retransmissions for freed streams are ignored.
        server.OnStreamFrame(uni, 0, new byte[10], true);
        Assert.Equal(0, server.OpenStreamCount);
    }

    [Fact]
    public void StopReceiving_QueuesStopSending_AndDiscardsLaterData()
    {
        var (client, server) = CreatePair();
        ulong id = Open(client, true);
        client.Write(id, new byte[50], false);
        Flush(client, server);
        DrainEvents(server);

        server.StopReceiving(id, 5);
        Assert.Contains(new ControlFrame(ControlFrameKind.StopSending, id, 5), DrainControlFrames(server));
        Assert.Throws<InvalidOperationException>(() => server.Read(id, new byte[10], out _));

        client.OnStopSending(id, 5);
        Flush(client, server);
        Assert.Empty(DrainEvents(server));
    }

    [Fact]
    public void ApplicationMisuse_ThrowsInvalidOperation()
    {
        var (client, server) = CreatePair();
        Assert.Throws<InvalidOperationException>(() => client.Write(0, new byte[1], false));
        server.OnStreamFrame(2, 0, new byte[1], false);
        Assert.Throws<InvalidOperationException>(() => server.Write(2, new byte[1], false));
        ulong uni = Open(client, false);
        Assert.Throws<InvalidOperationException>(() => client.Read(uni, new byte[1], out _));
    }

    [Fact]
    public void ReleasingAnUnfinishedStream_ResetsAndStopsIt_WithCodeZero()
    {
        var (client, server) = CreatePair();
        ulong id = Open(client, true);
        client.Write(id, new byte[40], false);
        SendNext(client, 25, out _);
        client.OnStreamFrame(id, 0, new byte[10], false);

        client.Release(id);
        List<ControlFrame> frames = DrainControlFrames(client);
        Assert.Contains(new ControlFrame(ControlFrameKind.ResetStream, id, 0, 25), frames);
        Assert.Contains(new ControlFrame(ControlFrameKind.StopSending, id, 0), frames);
        Assert.False(client.HasPendingStreamData);
        Assert.Equal(1, client.OpenStreamCount);

        // Freed once the reset is acknowledged and the peer's final size is known.
        client.OnControlFrameAcked(new ControlFrame(ControlFrameKind.ResetStream, id, 0, 25));
        Assert.Equal(1, client.OpenStreamCount);
        client.OnResetStream(id, 0, 10);
        Assert.Equal(0, client.OpenStreamCount);
        Assert.DoesNotContain(DrainEvents(client), e => e.Kind == ConnectionEventKind.StreamReset);
    }

    [Fact]
    public void DataDiscardedAfterStopReceiving_StillReturnsConnectionCredit()
    {
        var (_, server) = CreatePair(serverLimits: DefaultLimits with { MaxData = 100 });
        server.OnStreamFrame(0, 0, new byte[30], false);
        server.StopReceiving(0, 1);
        server.OnStreamFrame(0, 30, new byte[70], false);
        List<ControlFrame> frames = DrainControlFrames(server);
        Assert.Contains(new ControlFrame(ControlFrameKind.MaxData, 0, 200), frames);
        Assert.Contains(new ControlFrame(ControlFrameKind.StopSending, 0, 1), frames);
    }

    [Fact]
    public void StopSending_MayOpenAPeerBidirectionalStream()
    {
        var (_, server) = CreatePair();
        server.OnStopSending(4, 3);
        Assert.Equal(
            [
                new ConnectionEvent(ConnectionEventKind.StreamOpened, 0),
                new ConnectionEvent(ConnectionEventKind.StreamOpened, 4),
                new ConnectionEvent(ConnectionEventKind.StreamStopped, 4, 3),
            ],
            DrainEvents(server));
        Assert.Equal([new ControlFrame(ControlFrameKind.ResetStream, 4, 3, 0)], DrainControlFrames(server));
    }

    [Fact]
    public void WritingAfterFin_IsRejected_ButAnEmptyWriteIsHarmless()
    {
        var (client, server) = CreatePair();
        ulong id = Open(client, false);
        client.Write(id, new byte[5], fin: true);
        Flush(client, server);
        Assert.Equal(0, client.Write(id, ReadOnlySpan<byte>.Empty, fin: true));
        Assert.Throws<InvalidOperationException>(() => client.Write(id, new byte[1], false));
    }

    [Fact]
    public void AnEmptyFinishedPeerStream_IsFreedOnRelease_EvenIfNeverRead()
    {
        var (_, server) = CreatePair();
        server.OnStreamFrame(2, 0, ReadOnlySpan<byte>.Empty, fin: true);
        server.Release(2);
        Assert.Equal(0, server.OpenStreamCount);
        Assert.Equal([new ControlFrame(ControlFrameKind.MaxStreamsUni, 0, 3)], DrainControlFrames(server));
    }
}
