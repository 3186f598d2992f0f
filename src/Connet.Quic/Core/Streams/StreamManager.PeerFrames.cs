using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Connection;

namespace Connet.Quic.Core.Streams;

/// <summary>Frames received from the peer (already decoded), validated per RFC 9000 §19.</summary>
internal sealed partial class StreamManager
{
    // Frame types reported with errors (RFC 9000 §19, table 3).
    private const ulong StreamFrameType = 0x08;
    private const ulong ResetStreamFrameType = 0x04;
    private const ulong StopSendingFrameType = 0x05;
    private const ulong MaxStreamDataFrameType = 0x11;
    private const ulong MaxStreamsBidiFrameType = 0x12;
    private const ulong StreamDataBlockedFrameType = 0x15;
    private const ulong StreamsBlockedBidiFrameType = 0x16;

    private readonly ulong?[] _peerStreamsBlockedAt = new ulong?[2];

    public void OnStreamFrame(ulong streamId, ulong offset, ReadOnlySpan<byte> data, bool fin)
    {
        ulong length = (ulong)data.Length;
        if (offset > VarInt.MaxValue || length > VarInt.MaxValue - offset)
        {
            throw new QuicProtocolException(TransportErrorCode.FrameEncodingError, "STREAM data extends beyond 2^62-1.", StreamFrameType);
        }

        StreamState? stream = GetForPeerFrame(streamId, targetsReceiveHalf: true, StreamFrameType);
        if (stream is null)
        {
            return;
        }

        ReceiveBuffer receive = stream.Receive!;
        ulong end = offset + length;
        if (end > stream.ReceiveLimit)
        {
            throw new QuicProtocolException(TransportErrorCode.FlowControlError, $"Stream {streamId} data up to {end} exceeds its limit {stream.ReceiveLimit}.", StreamFrameType);
        }

        ChargeConnectionWindow(stream, end, StreamFrameType);
        if (fin)
        {
            receive.SetFinalSize(end);
        }

        receive.Insert(offset, data, stream.ReceiveLimit);
        if (receive.IsDiscarding)
        {
            UpdateConsumed(stream);
            TryFree(stream);
            return;
        }

        if (stream.ReceiveState == ReceiveHalfState.Receiving
            && !stream.IsReadablePending
            && (receive.ContiguousLength > 0 || receive.IsComplete))
        {
            stream.IsReadablePending = true;
            _events.Enqueue(new ConnectionEvent(ConnectionEventKind.StreamReadable, (long)streamId));
        }
    }

    public void OnResetStream(ulong streamId, ulong errorCode, ulong finalSize)
    {
        StreamState? stream = GetForPeerFrame(streamId, targetsReceiveHalf: true, ResetStreamFrameType);
        if (stream is null)
        {
            return;
        }

        if (finalSize > stream.ReceiveLimit)
        {
            throw new QuicProtocolException(TransportErrorCode.FlowControlError, $"Stream {streamId} final size {finalSize} exceeds its limit {stream.ReceiveLimit}.", ResetStreamFrameType);
        }

        ReceiveBuffer receive = stream.Receive!;
        ChargeConnectionWindow(stream, finalSize, ResetStreamFrameType);
        receive.SetFinalSize(finalSize);
        switch (stream.ReceiveState)
        {
            case ReceiveHalfState.Receiving:
                stream.ReceiveState = ReceiveHalfState.ResetReceived;
                stream.IsReadablePending = false;
                receive.Discard();
                _events.Enqueue(new ConnectionEvent(ConnectionEventKind.StreamReset, (long)streamId, errorCode));
                break;
            case ReceiveHalfState.Stopped:
                // The application asked for this; it needs no event.
                stream.ReceiveState = ReceiveHalfState.ResetReceived;
                break;
        }

        UpdateConsumed(stream);
        TryFree(stream);
    }

    /// <summary>We answer with RESET_STREAM (§3.5) and report StreamStopped, unless everything was already acknowledged.</summary>
    public void OnStopSending(ulong streamId, ulong errorCode)
    {
        StreamState? stream = GetForPeerFrame(streamId, targetsReceiveHalf: false, StopSendingFrameType);
        if (stream is null || stream.SendState != SendHalfState.Sending)
        {
            return;
        }

        ResetSendHalf(stream, errorCode);
        _events.Enqueue(new ConnectionEvent(ConnectionEventKind.StreamStopped, (long)streamId, errorCode));
    }

    public void OnMaxData(ulong maximum) => _peerMaxData = Math.Max(_peerMaxData, maximum);

    public void OnMaxStreamData(ulong streamId, ulong maximum)
    {
        StreamState? stream = GetForPeerFrame(streamId, targetsReceiveHalf: false, MaxStreamDataFrameType);
        if (stream is not null)
        {
            RaiseSendLimit(stream, maximum);
        }
    }

    public void OnMaxStreams(bool bidirectional, ulong maximum)
    {
        if (maximum > StreamIds.MaxStreamCount)
        {
            throw new QuicProtocolException(TransportErrorCode.FrameEncodingError, "MAX_STREAMS exceeds 2^60.", MaxStreamsBidiFrameType + (bidirectional ? 0UL : 1UL));
        }

        RaisePeerMaxStreams(bidirectional ? Bidi : Uni, maximum);
    }

    /// <summary>The last connection limit the peer said it was blocked at (diagnostics only).</summary>
    public ulong? PeerDataBlockedAt { get; private set; }

    /// <summary>Informational: our MAX_DATA policy already replenishes as the application reads.</summary>
    public void OnDataBlocked(ulong limit) => PeerDataBlockedAt = limit;

    public void OnStreamDataBlocked(ulong streamId, ulong limit) =>
        GetForPeerFrame(streamId, targetsReceiveHalf: true, StreamDataBlockedFrameType);

    public void OnStreamsBlocked(bool bidirectional, ulong limit)
    {
        if (limit > StreamIds.MaxStreamCount)
        {
            throw new QuicProtocolException(TransportErrorCode.FrameEncodingError, "STREAMS_BLOCKED exceeds 2^60.", StreamsBlockedBidiFrameType + (bidirectional ? 0UL : 1UL));
        }

        // Informational: MAX_STREAMS is raised as the application releases streams.
        _peerStreamsBlockedAt[bidirectional ? Bidi : Uni] = limit;
    }

    /// <summary>
    /// Resolves the stream a peer frame refers to, opening peer-initiated streams (and all lower ones of the same type,
    /// §3.2) on first reference. Returns null for a stream that existed but was already freed: late frames are ignored.
    /// </summary>
    private StreamState? GetForPeerFrame(ulong streamId, bool targetsReceiveHalf, ulong frameType)
    {
        bool bidirectional = StreamIds.IsBidirectional(streamId);
        int direction = bidirectional ? Bidi : Uni;
        ulong index = StreamIds.IndexOf(streamId);
        if (IsLocal(streamId))
        {
            if (!bidirectional && targetsReceiveHalf)
            {
                throw new QuicProtocolException(TransportErrorCode.StreamStateError, $"Stream {streamId} is our send-only stream.", frameType);
            }

            if (index >= _nextLocalIndex[direction])
            {
                throw new QuicProtocolException(TransportErrorCode.StreamStateError, $"Stream {streamId} was not opened yet.", frameType);
            }

            return _streams.GetValueOrDefault(streamId);
        }

        if (!bidirectional && !targetsReceiveHalf)
        {
            throw new QuicProtocolException(TransportErrorCode.StreamStateError, $"Stream {streamId} is the peer's send-only stream.", frameType);
        }

        if (index >= _remoteLimitAdvertised[direction])
        {
            throw new QuicProtocolException(TransportErrorCode.StreamLimitError, $"Stream {streamId} is beyond the allowed {_remoteLimitAdvertised[direction]} streams.", frameType);
        }

        bool serverInitiated = StreamIds.IsServerInitiated(streamId);
        while (_nextRemoteIndex[direction] <= index)
        {
            ulong openedId = StreamIds.Create(_nextRemoteIndex[direction]++, serverInitiated, bidirectional);
            CreateStream(openedId, isLocal: false);
            _events.Enqueue(new ConnectionEvent(ConnectionEventKind.StreamOpened, (long)openedId));
        }

        return _streams.GetValueOrDefault(streamId);
    }

    /// <summary>Connection-level accounting uses the highest offset (or final size) seen per stream (§4.5).</summary>
    private void ChargeConnectionWindow(StreamState stream, ulong end, ulong frameType)
    {
        if (end <= stream.ConnectionReceived)
        {
            return;
        }

        ulong increase = end - stream.ConnectionReceived;
        if (increase > _localMaxDataAdvertised - _receivedData)
        {
            throw new QuicProtocolException(TransportErrorCode.FlowControlError, $"Connection data exceeds the limit {_localMaxDataAdvertised}.", frameType);
        }

        _receivedData += increase;
        stream.ConnectionReceived = end;
    }
}
