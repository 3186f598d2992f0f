using Connet.Quic.Core.Recovery;

namespace Connet.Quic.Core.Connection;

/// <summary>Timers (loss detection, ACK delay, pacing, idle, handshake, path validation, key discard) and closing (RFC 9000 §10).</summary>
internal sealed partial class Connection
{
    /// <summary>How many CONNECTION_CLOSE packets we send in answer to a peer that keeps sending while we close.</summary>
    private const int MaxClosePackets = 8;

    private Instant IdleDeadline
    {
        get
        {
            TimeSpan local = _options.IdleTimeout;
            TimeSpan peer = TimeSpan.FromMilliseconds(_peerParameters?.MaxIdleTimeoutMs ?? 0);
            TimeSpan idle = local == TimeSpan.Zero ? peer : peer == TimeSpan.Zero ? local : Min(local, peer);
            if (idle == TimeSpan.Zero)
            {
                return Instant.Never;
            }

            // Never time out faster than a few probe timeouts (RFC 9000 §10.1).
            return _lastActivity + Max(idle, 3 * _rtt.ProbeTimeout(PeerMaxAckDelay));
        }
    }

    /// <summary>The next time <see cref="HandleTimeout"/> must be called, or <see cref="Instant.Never"/>.</summary>
    public Instant PollTimeout()
    {
        if (_state == ConnectionState.Drained)
        {
            return Instant.Never;
        }

        if (_state is ConnectionState.Closing or ConnectionState.Draining)
        {
            return _closeDeadline;
        }

        Instant next = Instant.Min(IdleDeadline, _handshakeDeadline);
        next = Instant.Min(next, _loss.LossDetectionDeadline);
        next = Instant.Min(next, _path.ValidationDeadline);
        next = Instant.Min(next, _path.ChallengeResendAt);
        next = Instant.Min(next, _pacingDeadline);
        if (_oneRtt is not null)
        {
            next = Instant.Min(next, _oneRtt.PreviousReceiveKeyDiscardTime);
        }

        foreach (PacketSpace space in _spaces)
        {
            if (!space.IsDiscarded && space.Received.AckPending)
            {
                next = Instant.Min(next, space.Received.AckDeadline);
            }
        }

        if (_options.KeepAliveInterval > TimeSpan.Zero && _state == ConnectionState.Established)
        {
            next = Instant.Min(next, _lastAckElicitingSent + _options.KeepAliveInterval);
        }

        return next;
    }

    /// <summary>Lets timers that are due fire (loss detection, ACK delay, idle, close, pacing).</summary>
    public void HandleTimeout(Instant now)
    {
        switch (_state)
        {
            case ConnectionState.Drained:
                return;
            case ConnectionState.Closing:
            case ConnectionState.Draining:
                if (now >= _closeDeadline)
                {
                    EnterDrained();
                }

                return;
        }

        if (now >= IdleDeadline)
        {
            CloseSilently(new ConnectionCloseInfo(ConnectionCloseReason.IdleTimeout, 0, 0, "The connection timed out: nothing was heard from the peer within the idle timeout."));
            return;
        }

        if (now >= _handshakeDeadline)
        {
            CloseSilently(new ConnectionCloseInfo(ConnectionCloseReason.HandshakeTimeout, 0, 0, "The handshake did not complete within the handshake timeout."));
            return;
        }

        if (_oneRtt is not null && now >= _oneRtt.PreviousReceiveKeyDiscardTime)
        {
            _oneRtt.DiscardPreviousReceiveKey();
        }

        if (now >= _path.ValidationDeadline)
        {
            OnPathValidationTimeout();
        }
        else if (now >= _path.ChallengeResendAt)
        {
            OnChallengeResendDue(now);
        }

        if (now >= _loss.LossDetectionDeadline)
        {
            _lostScratch.Clear();
            _loss.OnLossDetectionTimeout(now, _lostScratch, out int probes, out EncryptionLevel probeSpace);
            foreach (SentPacket packet in _lostScratch)
            {
                OnPacketLost(packet);
            }

            ReleasePackets(_lostScratch);
            if (probes > 0)
            {
                _spaces[(int)probeSpace].ProbesPending = probes;
                RequeueForProbe(probeSpace);
            }
        }
    }

    /// <summary>A PTO probe should carry data that may have been lost rather than a bare PING (RFC 9002 §6.2.4).</summary>
    private void RequeueForProbe(EncryptionLevel level)
    {
        PacketSpace space = _spaces[(int)level];
        foreach (SentPacket packet in _loss.InFlight(level))
        {
            foreach (SentFrame frame in packet.Frames)
            {
                if (frame.Kind == SentFrameKind.Crypto)
                {
                    space.CryptoSend.OnLost(frame.Offset, frame.Length, false);
                }
            }
        }
    }

    /// <summary>Closes with an application error code (CONNECTION_CLOSE 0x1d).</summary>
    public void Close(Instant now, ulong applicationErrorCode, string reason)
    {
        if (IsClosing)
        {
            return;
        }

        _closeIsApplication = true;
        _closeErrorCode = applicationErrorCode;
        _closeFrameType = 0;
        _closeReason = reason;
        EnterClosing(now, new ConnectionCloseInfo(ConnectionCloseReason.LocalApplication, applicationErrorCode, 0, reason));
    }

    private void CloseWithTransportError(Instant now, QuicProtocolException error)
    {
        if (IsClosing)
        {
            return;
        }

        _closeIsApplication = false;
        _closeErrorCode = (ulong)error.Code;
        _closeFrameType = error.FrameType;
        _closeReason = error.Reason;
        EnterClosing(now, new ConnectionCloseInfo(ConnectionCloseReason.LocalTransport, (ulong)error.Code, error.FrameType, error.Reason));
    }

    private void EnterClosing(Instant now, ConnectionCloseInfo info)
    {
        CloseInfo = info;
        _state = ConnectionState.Closing;
        _sendConnectionClose = true;
        _closePacketsAllowed = MaxClosePackets;
        _closeDeadline = now + (3 * _rtt.ProbeTimeout(PeerMaxAckDelay));
        _events.Enqueue(new ConnectionEvent(ConnectionEventKind.ConnectionClosed));
    }

    private void EnterDraining(Instant now, ConnectionCloseInfo info)
    {
        if (_state is ConnectionState.Draining or ConnectionState.Drained)
        {
            return;
        }

        bool wasClosing = _state == ConnectionState.Closing;
        CloseInfo ??= info;
        _state = ConnectionState.Draining;
        _closeDeadline = now + (3 * _rtt.ProbeTimeout(PeerMaxAckDelay));
        if (!wasClosing)
        {
            _events.Enqueue(new ConnectionEvent(ConnectionEventKind.ConnectionClosed));
        }
    }

    private void CloseSilently(ConnectionCloseInfo info)
    {
        if (!IsClosing)
        {
            CloseInfo = info;
            _events.Enqueue(new ConnectionEvent(ConnectionEventKind.ConnectionClosed));
        }

        EnterDrained();
    }

    private void EnterDrained()
    {
        if (_state == ConnectionState.Drained)
        {
            return;
        }

        _state = ConnectionState.Drained;
        foreach (LocalId local in _localIds)
        {
            _endpointEvents.Enqueue(new EndpointEvent(EndpointEventKind.ConnectionIdRetired, local.Id));
        }

        _endpointEvents.Enqueue(new EndpointEvent(EndpointEventKind.Drained));
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a <= b ? a : b;
}
