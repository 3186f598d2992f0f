using Connet.Quic.Core.Connection;

namespace Connet.Quic.Core.Streams;

/// <summary>
/// All stream state of one connection (RFC 9000 §2-4), sans-IO: the connection feeds decoded frames and
/// acknowledgement/loss outcomes in, and takes out plain descriptions of what to send (<see cref="TryPeekSend"/>,
/// <see cref="TryDequeueControlFrame"/>) and events for the application (<see cref="TryDequeueEvent"/>).
/// Violations by the peer throw <see cref="QuicProtocolException"/>; misuse by the application throws
/// <see cref="InvalidOperationException"/>. Not thread-safe.
/// </summary>
internal sealed partial class StreamManager
{
    private const int Bidi = 0;
    private const int Uni = 1;

    private readonly bool _isClient;
    private readonly StreamLimits _local;
    private readonly int _sendBufferCapacity;
    private readonly Dictionary<ulong, StreamState> _streams = [];
    private readonly Queue<ConnectionEvent> _events = new();
    private StreamLimits _peer;

    // Locally initiated streams, indexed by Bidi/Uni.
    private readonly ulong[] _nextLocalIndex = new ulong[2];
    private readonly ulong[] _peerMaxStreams = new ulong[2];
    private readonly bool[] _isOpenBlocked = new bool[2];
    private readonly ulong?[] _streamsBlockedReportedAt = new ulong?[2];

    // Peer-initiated streams: all indices below _nextRemoteIndex were opened; the peer may open up to the advertised limit.
    private readonly ulong[] _nextRemoteIndex = new ulong[2];
    private readonly ulong[] _remoteLimitAdvertised = new ulong[2];
    private readonly ulong[] _remoteLimitTarget = new ulong[2];
    private readonly bool[] _isMaxStreamsQueued = new bool[2];

    // Connection-level flow control (§4.1): what we may send, and what we let the peer send.
    private ulong _peerMaxData;
    private ulong _sentData;
    private ulong? _dataBlockedReportedAt;
    private ulong _localMaxDataAdvertised;
    private ulong _receivedData;
    private ulong _consumedData;
    private bool _isMaxDataQueued;

    public StreamManager(bool isClient, StreamLimits local, int sendBufferCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sendBufferCapacity);
        if (local.MaxStreamsBidi > StreamIds.MaxStreamCount || local.MaxStreamsUni > StreamIds.MaxStreamCount)
        {
            throw new ArgumentOutOfRangeException(nameof(local), "A stream limit cannot exceed 2^60.");
        }

        _isClient = isClient;
        _local = local;
        _sendBufferCapacity = sendBufferCapacity;
        _localMaxDataAdvertised = local.MaxData;
        _remoteLimitAdvertised[Bidi] = _remoteLimitTarget[Bidi] = local.MaxStreamsBidi;
        _remoteLimitAdvertised[Uni] = _remoteLimitTarget[Uni] = local.MaxStreamsUni;
    }

    /// <summary>Streams still tracked (open, or released but waiting for their halves to finish).</summary>
    public int OpenStreamCount => _streams.Count;

    /// <summary>Applies the peer's transport parameters. Limits only grow; calling it again is harmless.</summary>
    public void ApplyPeerLimits(StreamLimits peer)
    {
        if (peer.MaxStreamsBidi > StreamIds.MaxStreamCount || peer.MaxStreamsUni > StreamIds.MaxStreamCount)
        {
            throw new QuicProtocolException(TransportErrorCode.TransportParameterError, "initial_max_streams exceeds 2^60.");
        }

        _peer = peer;
        _peerMaxData = Math.Max(_peerMaxData, peer.MaxData);
        RaisePeerMaxStreams(Bidi, peer.MaxStreamsBidi);
        RaisePeerMaxStreams(Uni, peer.MaxStreamsUni);
        foreach (StreamState stream in _streams.Values)
        {
            if (stream.Send is not null)
            {
                RaiseSendLimit(stream, PeerInitialSendLimit(stream.IsLocal, stream.IsBidirectional));
            }
        }
    }

    public bool TryOpen(bool bidirectional, out ulong streamId)
    {
        int direction = bidirectional ? Bidi : Uni;
        if (_nextLocalIndex[direction] >= _peerMaxStreams[direction])
        {
            _isOpenBlocked[direction] = true;
            ulong limit = _peerMaxStreams[direction];
            if (_streamsBlockedReportedAt[direction] != limit)
            {
                _streamsBlockedReportedAt[direction] = limit;
                EnqueueControl(bidirectional ? ControlFrameKind.StreamsBlockedBidi : ControlFrameKind.StreamsBlockedUni, 0, limit);
            }

            streamId = 0;
            return false;
        }

        ulong index = _nextLocalIndex[direction]++;
        streamId = StreamIds.Create(index, serverInitiated: !_isClient, bidirectional);
        CreateStream(streamId, isLocal: true);
        return true;
    }

    public int Write(ulong streamId, ReadOnlySpan<byte> data, bool fin)
    {
        StreamState stream = GetForApplication(streamId);
        SendBuffer send = stream.Send ?? throw new InvalidOperationException($"Stream {streamId} is receive-only.");
        if (stream.SendState is SendHalfState.ResetSent or SendHalfState.ResetAcknowledged)
        {
            throw new InvalidOperationException($"Stream {streamId} was reset; it takes no more data.");
        }

        if (send.IsFinished)
        {
            if (data.IsEmpty)
            {
                return 0;
            }

            throw new InvalidOperationException($"Stream {streamId} was already finished.");
        }

        ulong credit = stream.SendLimit > send.WrittenLength ? stream.SendLimit - send.WrittenLength : 0;
        int allowed = (int)Math.Min((ulong)send.AvailableCapacity, credit);
        int accepted = send.Append(data[..Math.Min(data.Length, allowed)]);
        if (accepted < data.Length)
        {
            stream.IsWriteBlocked = true;
            if (credit <= (ulong)send.AvailableCapacity + (ulong)accepted)
            {
                ReportStreamDataBlocked(stream);
            }
        }
        else if (fin)
        {
            send.Finish();
        }

        if (send.HasPendingData)
        {
            ScheduleSend(stream);
        }

        return accepted;
    }

    public int Read(ulong streamId, Span<byte> destination, out bool fin)
    {
        StreamState stream = GetForApplication(streamId);
        ReceiveBuffer receive = stream.Receive ?? throw new InvalidOperationException($"Stream {streamId} is send-only.");
        stream.IsReadablePending = false;
        switch (stream.ReceiveState)
        {
            case ReceiveHalfState.ResetReceived:
                throw new InvalidOperationException($"Stream {streamId} was reset by the peer.");
            case ReceiveHalfState.Stopped:
                throw new InvalidOperationException($"Stream {streamId} was stopped; it delivers no more data.");
        }

        int read = receive.Read(destination);
        if (read > 0)
        {
            UpdateConsumed(stream);
            ReplenishStreamWindow(stream);
        }

        fin = receive.IsComplete;
        if (fin && stream.ReceiveState == ReceiveHalfState.Receiving)
        {
            stream.ReceiveState = ReceiveHalfState.AllRead;
            TryFree(stream);
        }

        return read;
    }

    public void ResetSend(ulong streamId, ulong errorCode)
    {
        StreamState stream = GetForApplication(streamId);
        if (stream.Send is null)
        {
            throw new InvalidOperationException($"Stream {streamId} is receive-only.");
        }

        if (stream.SendState == SendHalfState.Sending)
        {
            ResetSendHalf(stream, errorCode);
        }
    }

    public void StopReceiving(ulong streamId, ulong errorCode)
    {
        StreamState stream = GetForApplication(streamId);
        if (stream.Receive is null)
        {
            throw new InvalidOperationException($"Stream {streamId} is send-only.");
        }

        StopReceiveHalf(stream, errorCode);
        TryFree(stream);
    }

    /// <summary>
    /// The application is done with the stream. A send half that was never finished is reset and a receive half that
    /// was not read to the end is stopped, both with error code 0 (call <see cref="ResetSend"/> or
    /// <see cref="StopReceiving"/> first to choose the code). The state is freed once both halves are terminal; freeing
    /// a peer-initiated stream lets the peer open another one (MAX_STREAMS, §4.6).
    /// </summary>
    public void Release(ulong streamId)
    {
        if (!_streams.TryGetValue(streamId, out StreamState? stream))
        {
            return;
        }

        stream.IsReleased = true;
        if (stream.Send is { IsFinished: false } && stream.SendState == SendHalfState.Sending)
        {
            ResetSendHalf(stream, 0);
        }

        StopReceiveHalf(stream, 0);
        TryFree(stream);
    }

    public bool TryDequeueEvent(out ConnectionEvent e) => _events.TryDequeue(out e);

    private StreamState GetForApplication(ulong streamId) =>
        _streams.TryGetValue(streamId, out StreamState? stream)
            ? stream
            : throw new InvalidOperationException($"Stream {streamId} is not open.");

    private bool IsLocal(ulong streamId) => StreamIds.IsServerInitiated(streamId) != _isClient;

    private StreamState CreateStream(ulong streamId, bool isLocal)
    {
        bool bidirectional = StreamIds.IsBidirectional(streamId);
        bool canSend = bidirectional || isLocal;
        bool canReceive = bidirectional || !isLocal;
        var stream = new StreamState(
            streamId,
            isLocal,
            canSend ? new SendBuffer(_sendBufferCapacity) : null,
            canReceive ? new ReceiveBuffer(TransportErrorCode.FlowControlError) : null);
        if (canSend)
        {
            stream.SendLimit = PeerInitialSendLimit(isLocal, bidirectional);
        }

        if (canReceive)
        {
            stream.ReceiveWindow = !bidirectional ? _local.MaxStreamDataUni
                : isLocal ? _local.MaxStreamDataBidiLocal
                : _local.MaxStreamDataBidiRemote;
            stream.ReceiveLimit = stream.ReceiveWindow;
        }

        _streams.Add(streamId, stream);
        return stream;
    }

    // The peer's parameters are named from its side: our streams are "remote" to it.
    private ulong PeerInitialSendLimit(bool isLocal, bool bidirectional) =>
        !bidirectional ? _peer.MaxStreamDataUni
            : isLocal ? _peer.MaxStreamDataBidiRemote
            : _peer.MaxStreamDataBidiLocal;

    private void RaisePeerMaxStreams(int direction, ulong maximum)
    {
        if (maximum <= _peerMaxStreams[direction])
        {
            return;
        }

        _peerMaxStreams[direction] = maximum;
        if (_isOpenBlocked[direction])
        {
            _isOpenBlocked[direction] = false;
            _events.Enqueue(new ConnectionEvent(ConnectionEventKind.StreamsAvailable, direction == Bidi ? 0 : 1));
        }
    }

    private void RaiseSendLimit(StreamState stream, ulong maximum)
    {
        if (maximum <= stream.SendLimit)
        {
            return;
        }

        stream.SendLimit = maximum;
        if (stream.SendState != SendHalfState.Sending)
        {
            return;
        }

        if (stream.Send!.HasPendingData)
        {
            ScheduleSend(stream);
        }

        NotifyIfWritable(stream);
    }

    private void NotifyIfWritable(StreamState stream)
    {
        SendBuffer send = stream.Send!;
        if (stream.IsWriteBlocked
            && stream.SendState == SendHalfState.Sending
            && !send.IsFinished
            && send.AvailableCapacity > 0
            && stream.SendLimit > send.WrittenLength)
        {
            stream.IsWriteBlocked = false;
            _events.Enqueue(new ConnectionEvent(ConnectionEventKind.StreamWritable, (long)stream.Id));
        }
    }

    private void ResetSendHalf(StreamState stream, ulong errorCode)
    {
        SendBuffer send = stream.Send!;
        stream.SendState = SendHalfState.ResetSent;
        stream.ResetErrorCode = errorCode;
        stream.ResetFinalSize = send.SentLength;
        stream.IsWriteBlocked = false;
        send.Discard();
        Unschedule(stream);
        QueueResetStream(stream);
    }

    private void StopReceiveHalf(StreamState stream, ulong errorCode)
    {
        ReceiveBuffer? receive = stream.Receive;
        if (receive is null || stream.ReceiveState != ReceiveHalfState.Receiving || receive.IsComplete)
        {
            return;
        }

        stream.ReceiveState = ReceiveHalfState.Stopped;
        stream.StopErrorCode = errorCode;
        stream.IsReadablePending = false;
        receive.Discard();
        UpdateConsumed(stream);

        // Once the final size is known the peer has nothing left to stop.
        if (receive.FinalSize is null && !stream.IsStopSendingQueued)
        {
            stream.IsStopSendingQueued = true;
            EnqueueControl(ControlFrameKind.StopSending, stream.Id, 0);
        }
    }

    private void TryFree(StreamState stream)
    {
        if (!stream.IsReleased || !stream.IsSendTerminal || !stream.IsReceiveTerminal)
        {
            return;
        }

        _streams.Remove(stream.Id);
        Unschedule(stream);
        stream.Send?.Discard();
        stream.Receive?.Discard();
        if (!stream.IsLocal)
        {
            int direction = stream.IsBidirectional ? Bidi : Uni;
            _remoteLimitTarget[direction] = Math.Min(_remoteLimitTarget[direction] + 1, StreamIds.MaxStreamCount);
            QueueMaxStreams(direction);
        }
    }

    /// <summary>Counts bytes the application is done with (read, or discarded) toward connection-level credit.</summary>
    private void UpdateConsumed(StreamState stream)
    {
        ReceiveBuffer receive = stream.Receive!;
        ulong consumed = receive.IsDiscarding
            ? Math.Max(receive.HighestReceived, receive.FinalSize ?? 0)
            : receive.ReadOffset;
        if (consumed <= stream.ConnectionConsumed)
        {
            return;
        }

        _consumedData += consumed - stream.ConnectionConsumed;
        stream.ConnectionConsumed = consumed;
        if (!_isMaxDataQueued && IsWorthAdvertising(_consumedData + _local.MaxData, _localMaxDataAdvertised, _local.MaxData))
        {
            _isMaxDataQueued = true;
            EnqueueControl(ControlFrameKind.MaxData, 0, 0);
        }
    }

    private void ReplenishStreamWindow(StreamState stream)
    {
        ReceiveBuffer receive = stream.Receive!;
        if (!stream.IsMaxStreamDataQueued
            && stream.ReceiveState == ReceiveHalfState.Receiving
            && receive.FinalSize is null
            && IsWorthAdvertising(receive.ReadOffset + stream.ReceiveWindow, stream.ReceiveLimit, stream.ReceiveWindow))
        {
            stream.IsMaxStreamDataQueued = true;
            EnqueueControl(ControlFrameKind.MaxStreamData, stream.Id, 0);
        }
    }

    // A new limit is announced once the application has consumed at least half a window since the last announcement.
    private static bool IsWorthAdvertising(ulong candidate, ulong advertised, ulong window) =>
        candidate > advertised && candidate - advertised >= Math.Max(1, window / 2);
}
