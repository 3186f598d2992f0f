using Connet.Quic.Core.Connection;

namespace Connet.Quic.Core.Streams;

/// <summary>The packet builder's side: choosing stream data fairly, control frames, and acknowledgement/loss outcomes.</summary>
internal sealed partial class StreamManager
{
    // Streams that may have something to send, in round-robin order; a stream moves to the back after each send.
    private readonly LinkedList<StreamState> _sendQueue = new();

    // Queued control frames; values of MAX_* frames are filled in when dequeued so they are always current.
    private readonly Queue<ControlFrame> _controlFrames = new();

    /// <summary>True when frames are queued (one may still turn out stale, in which case dequeuing yields nothing).</summary>
    public bool HasPendingControlFrames => _controlFrames.Count > 0;

    public bool HasPendingStreamData => FindCandidate(int.MaxValue, isPeek: false, out _);

    /// <summary>
    /// Chooses the next stream data to send: retransmissions before new data, streams in round-robin order, new data
    /// within both the stream's and the connection's flow-control credit. Queues DATA_BLOCKED/STREAM_DATA_BLOCKED when
    /// credit is what stops a stream.
    /// </summary>
    public bool TryPeekSend(int maxLength, out StreamSendCandidate candidate) => FindCandidate(maxLength, isPeek: true, out candidate);

    /// <summary>
    /// Sends <paramref name="destination"/>.Length bytes (at most the candidate's MaxLength) of the candidate: copies
    /// them, marks them sent and consumes connection credit for new bytes. <paramref name="fin"/> may only be set when the
    /// candidate had Fin and all of its bytes are taken.
    /// </summary>
    public void CommitSend(in StreamSendCandidate candidate, Span<byte> destination, bool fin)
    {
        StreamState stream = GetForApplication(candidate.StreamId);
        SendBuffer send = stream.Send ?? throw new InvalidOperationException($"Stream {candidate.StreamId} is receive-only.");
        if (stream.SendState != SendHalfState.Sending)
        {
            throw new InvalidOperationException($"Stream {candidate.StreamId} no longer sends data.");
        }

        if (destination.Length > candidate.MaxLength || (fin && (!candidate.Fin || destination.Length != candidate.MaxLength)))
        {
            throw new ArgumentException("The destination does not match the candidate.", nameof(destination));
        }

        ulong sentBefore = send.SentLength;
        send.CopyTo(candidate.Offset, destination);
        send.MarkSent(candidate.Offset, destination.Length, fin);
        _sentData += send.SentLength - sentBefore;

        Unschedule(stream);
        if (send.HasPendingData)
        {
            _sendQueue.AddLast(stream.SendQueueNode);
        }
    }

    public void OnStreamDataAcked(ulong streamId, ulong offset, int length, bool fin)
    {
        if (!_streams.TryGetValue(streamId, out StreamState? stream) || stream.Send is null || stream.SendState != SendHalfState.Sending)
        {
            return;
        }

        SendBuffer send = stream.Send;
        send.OnAcked(offset, length, fin);
        if (send.AllAcknowledged)
        {
            stream.SendState = SendHalfState.AllAcknowledged;
            Unschedule(stream);
            _events.Enqueue(new ConnectionEvent(ConnectionEventKind.StreamWritesCompleted, (long)streamId));
            TryFree(stream);
            return;
        }

        NotifyIfWritable(stream);
    }

    public void OnStreamDataLost(ulong streamId, ulong offset, int length, bool fin)
    {
        if (!_streams.TryGetValue(streamId, out StreamState? stream) || stream.Send is null || stream.SendState != SendHalfState.Sending)
        {
            return;
        }

        stream.Send.OnLost(offset, length, fin);
        if (stream.Send.HasLostData)
        {
            ScheduleSend(stream);
        }
    }

    public bool TryDequeueControlFrame(out ControlFrame frame)
    {
        while (_controlFrames.TryDequeue(out ControlFrame queued))
        {
            if (TryMaterialize(queued, out frame))
            {
                return true;
            }
        }

        frame = default;
        return false;
    }

    /// <summary>Re-queues a lost control frame if it still matters; MAX_* frames are resent with the current value.</summary>
    public void OnControlFrameLost(in ControlFrame frame)
    {
        StreamState? stream = _streams.GetValueOrDefault(frame.StreamId);
        switch (frame.Kind)
        {
            case ControlFrameKind.MaxData:
                // A newer MAX_DATA supersedes this one; its own loss would be reported separately.
                if (frame.Value >= _localMaxDataAdvertised && !_isMaxDataQueued)
                {
                    _isMaxDataQueued = true;
                    EnqueueControl(ControlFrameKind.MaxData, 0, 0);
                }

                break;
            case ControlFrameKind.MaxStreamData:
                if (stream is { ReceiveState: ReceiveHalfState.Receiving, IsMaxStreamDataQueued: false }
                    && stream.Receive!.FinalSize is null
                    && frame.Value >= stream.ReceiveLimit)
                {
                    stream.IsMaxStreamDataQueued = true;
                    EnqueueControl(ControlFrameKind.MaxStreamData, stream.Id, 0);
                }

                break;
            case ControlFrameKind.MaxStreamsBidi or ControlFrameKind.MaxStreamsUni:
                int direction = frame.Kind == ControlFrameKind.MaxStreamsBidi ? Bidi : Uni;
                if (frame.Value >= _remoteLimitAdvertised[direction] && !_isMaxStreamsQueued[direction])
                {
                    _isMaxStreamsQueued[direction] = true;
                    EnqueueControl(frame.Kind, 0, 0);
                }

                break;
            case ControlFrameKind.ResetStream:
                if (stream is { SendState: SendHalfState.ResetSent })
                {
                    QueueResetStream(stream);
                }

                break;
            case ControlFrameKind.StopSending:
                if (stream is { ReceiveState: ReceiveHalfState.Stopped, IsStopSendingQueued: false } && stream.Receive!.FinalSize is null)
                {
                    stream.IsStopSendingQueued = true;
                    EnqueueControl(ControlFrameKind.StopSending, stream.Id, 0);
                }

                break;
            default:
                // Blocked frames are resent only while still blocked at the same limit (checked when dequeued).
                EnqueueControl(frame.Kind, frame.StreamId, frame.Value);
                break;
        }
    }

    public void OnControlFrameAcked(in ControlFrame frame)
    {
        if (frame.Kind == ControlFrameKind.ResetStream
            && _streams.TryGetValue(frame.StreamId, out StreamState? stream)
            && stream.SendState == SendHalfState.ResetSent)
        {
            stream.SendState = SendHalfState.ResetAcknowledged;
            TryFree(stream);
        }
    }

    private bool FindCandidate(int maxLength, bool isPeek, out StreamSendCandidate candidate)
    {
        // Retransmissions first: they need no credit and unblock the peer's reassembly.
        for (LinkedListNode<StreamState>? node = _sendQueue.First; node is not null; node = node.Next)
        {
            SendBuffer send = node.Value.Send!;
            if (send.HasLostData && send.TryGetNext(maxLength, 0, out ulong offset, out int length, out bool fin))
            {
                candidate = new StreamSendCandidate(node.Value.Id, offset, length, fin);
                return true;
            }
        }

        ulong connectionCredit = _peerMaxData - _sentData;
        for (LinkedListNode<StreamState>? node = _sendQueue.First; node is not null;)
        {
            LinkedListNode<StreamState>? next = node.Next;
            StreamState stream = node.Value;
            SendBuffer send = stream.Send!;
            ulong newDataLimit = Math.Min(stream.SendLimit, send.SentLength + connectionCredit);
            if (!send.HasLostData && send.TryGetNext(maxLength, newDataLimit, out ulong offset, out int length, out bool fin))
            {
                candidate = new StreamSendCandidate(stream.Id, offset, length, fin);
                return true;
            }

            if (isPeek && !send.HasLostData)
            {
                if (!send.HasPendingData)
                {
                    _sendQueue.Remove(node);
                }
                else if (send.SentLength >= stream.SendLimit)
                {
                    // Parked until MAX_STREAM_DATA (or a loss) puts it back.
                    _sendQueue.Remove(node);
                    ReportStreamDataBlocked(stream);
                }
                else if (connectionCredit == 0 && maxLength > 0 && _dataBlockedReportedAt != _peerMaxData)
                {
                    _dataBlockedReportedAt = _peerMaxData;
                    EnqueueControl(ControlFrameKind.DataBlocked, 0, _peerMaxData);
                }
            }

            node = next;
        }

        candidate = default;
        return false;
    }

    private bool TryMaterialize(in ControlFrame queued, out ControlFrame frame)
    {
        frame = queued;
        StreamState? stream = _streams.GetValueOrDefault(queued.StreamId);
        switch (queued.Kind)
        {
            case ControlFrameKind.MaxData:
                _isMaxDataQueued = false;
                _localMaxDataAdvertised = Math.Max(_localMaxDataAdvertised, _consumedData + _local.MaxData);
                frame = queued with { Value = _localMaxDataAdvertised };
                return true;

            case ControlFrameKind.MaxStreamData:
                if (stream is null)
                {
                    return false;
                }

                stream.IsMaxStreamDataQueued = false;
                if (stream.ReceiveState != ReceiveHalfState.Receiving || stream.Receive!.FinalSize is not null)
                {
                    return false;
                }

                stream.ReceiveLimit = Math.Max(stream.ReceiveLimit, stream.Receive.ReadOffset + stream.ReceiveWindow);
                frame = queued with { Value = stream.ReceiveLimit };
                return true;

            case ControlFrameKind.MaxStreamsBidi or ControlFrameKind.MaxStreamsUni:
                int direction = queued.Kind == ControlFrameKind.MaxStreamsBidi ? Bidi : Uni;
                _isMaxStreamsQueued[direction] = false;
                _remoteLimitAdvertised[direction] = Math.Max(_remoteLimitAdvertised[direction], _remoteLimitTarget[direction]);
                frame = queued with { Value = _remoteLimitAdvertised[direction] };
                return true;

            case ControlFrameKind.DataBlocked:
                return queued.Value == _peerMaxData;

            case ControlFrameKind.StreamDataBlocked:
                return stream is { SendState: SendHalfState.Sending } && stream.SendLimit == queued.Value;

            case ControlFrameKind.StreamsBlockedBidi:
                return queued.Value == _peerMaxStreams[Bidi];

            case ControlFrameKind.StreamsBlockedUni:
                return queued.Value == _peerMaxStreams[Uni];

            case ControlFrameKind.ResetStream:
                if (stream is null)
                {
                    return false;
                }

                stream.IsResetQueued = false;
                frame = queued with { Value = stream.ResetErrorCode, FinalSize = stream.ResetFinalSize };
                return stream.SendState == SendHalfState.ResetSent;

            case ControlFrameKind.StopSending:
                if (stream is null)
                {
                    return false;
                }

                stream.IsStopSendingQueued = false;
                frame = queued with { Value = stream.StopErrorCode };
                return stream.ReceiveState == ReceiveHalfState.Stopped && stream.Receive!.FinalSize is null;

            default:
                return false;
        }
    }

    private void EnqueueControl(ControlFrameKind kind, ulong streamId, ulong value) =>
        _controlFrames.Enqueue(new ControlFrame(kind, streamId, value));

    private void QueueResetStream(StreamState stream)
    {
        if (!stream.IsResetQueued)
        {
            stream.IsResetQueued = true;
            EnqueueControl(ControlFrameKind.ResetStream, stream.Id, 0);
        }
    }

    private void QueueMaxStreams(int direction)
    {
        if (!_isMaxStreamsQueued[direction] && _remoteLimitTarget[direction] > _remoteLimitAdvertised[direction])
        {
            _isMaxStreamsQueued[direction] = true;
            EnqueueControl(direction == Bidi ? ControlFrameKind.MaxStreamsBidi : ControlFrameKind.MaxStreamsUni, 0, 0);
        }
    }

    private void ReportStreamDataBlocked(StreamState stream)
    {
        if (stream.BlockedReportedAt != stream.SendLimit)
        {
            stream.BlockedReportedAt = stream.SendLimit;
            EnqueueControl(ControlFrameKind.StreamDataBlocked, stream.Id, stream.SendLimit);
        }
    }

    private void ScheduleSend(StreamState stream)
    {
        if (stream.SendQueueNode.List is null)
        {
            _sendQueue.AddLast(stream.SendQueueNode);
        }
    }

    private void Unschedule(StreamState stream)
    {
        if (stream.SendQueueNode.List is not null)
        {
            _sendQueue.Remove(stream.SendQueueNode);
        }
    }
}
