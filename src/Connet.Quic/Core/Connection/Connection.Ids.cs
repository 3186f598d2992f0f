using Connet.Quic.Core.Frames;

namespace Connet.Quic.Core.Connection;

/// <summary>Connection ID issue and retirement in both directions (RFC 9000 §5.1).</summary>
internal sealed partial class Connection
{
    private readonly List<LocalId> _localIds = new();
    private readonly List<RemoteId> _remoteIds = new();
    private readonly Queue<ulong> _newConnectionIdsToSend = new();
    private readonly Queue<ulong> _retireConnectionIdsToSend = new();
    private ConnectionId _remoteConnectionId;
    private ulong _remoteSequence;
    private ulong _nextLocalSequence;
    private ulong _remoteRetirePriorTo;

    private void IssueInitialConnectionId(ConnectionId id)
    {
        var local = new LocalId(_nextLocalSequence++, id, DeriveResetToken(id));
        _localIds.Add(local);
        _endpointEvents.Enqueue(new EndpointEvent(EndpointEventKind.ConnectionIdIssued, id, local.ResetToken ?? default));
    }

    private StatelessResetToken? DeriveResetToken(ConnectionId id) =>
        _options.StatelessResetKey is { } key ? StatelessResetToken.Derive(key, id.Span) : null;

    /// <summary>After the handshake, give the peer spare IDs up to the smaller of both limits.</summary>
    private void IssueSpareConnectionIds()
    {
        ulong peerLimit = _peerParameters?.ActiveConnectionIdLimit ?? 2;
        int target = (int)Math.Min(peerLimit, (ulong)_options.ActiveConnectionIdLimit);
        while (_localIds.Count(l => !l.Retired) < target)
        {
            ConnectionId id = ConnectionId.Random(_random, _options.LocalConnectionIdLength);
            var local = new LocalId(_nextLocalSequence++, id, DeriveResetToken(id));
            _localIds.Add(local);
            _newConnectionIdsToSend.Enqueue(local.Sequence);
            _endpointEvents.Enqueue(new EndpointEvent(EndpointEventKind.ConnectionIdIssued, id, local.ResetToken ?? default));
        }
    }

    private void OnNewConnectionId(in NewConnectionIdFrame frame)
    {
        if (_remoteConnectionId.Length == 0)
        {
            throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "NEW_CONNECTION_ID from a peer using zero-length connection IDs", (ulong)FrameType.NewConnectionId);
        }

        ulong sequence = frame.SequenceNumber;
        RemoteId? existing = _remoteIds.Find(r => r.Sequence == sequence);
        if (existing is not null)
        {
            if (existing.Id != frame.ConnectionId || existing.ResetToken != frame.ResetToken)
            {
                throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "NEW_CONNECTION_ID reuses a sequence number with different values", (ulong)FrameType.NewConnectionId);
            }

            return;
        }

        if (frame.SequenceNumber < _remoteRetirePriorTo)
        {
            // Already retired by an earlier retire_prior_to: retire it straight away (§19.15).
            _retireConnectionIdsToSend.Enqueue(frame.SequenceNumber);
            return;
        }

        _remoteIds.Add(new RemoteId(frame.SequenceNumber, frame.ConnectionId, frame.ResetToken));

        if (frame.RetirePriorTo > _remoteRetirePriorTo)
        {
            _remoteRetirePriorTo = frame.RetirePriorTo;
            for (int i = _remoteIds.Count - 1; i >= 0; i--)
            {
                if (_remoteIds[i].Sequence < _remoteRetirePriorTo)
                {
                    _retireConnectionIdsToSend.Enqueue(_remoteIds[i].Sequence);
                    _remoteIds.RemoveAt(i);
                }
            }

            if (_remoteSequence < _remoteRetirePriorTo)
            {
                SwitchToNextRemoteId();
            }
        }

        if ((ulong)_remoteIds.Count > (ulong)_options.ActiveConnectionIdLimit)
        {
            throw new QuicProtocolException(TransportErrorCode.ConnectionIdLimitError, $"The peer issued more than {_options.ActiveConnectionIdLimit} active connection IDs", (ulong)FrameType.NewConnectionId);
        }
    }

    private void SwitchToNextRemoteId()
    {
        RemoteId? next = null;
        foreach (RemoteId candidate in _remoteIds)
        {
            if (candidate.Sequence >= _remoteRetirePriorTo && (next is null || candidate.Sequence < next.Sequence))
            {
                next = candidate;
            }
        }

        if (next is not null)
        {
            _remoteConnectionId = next.Id;
            _remoteSequence = next.Sequence;
            next.Used = true;
        }
    }

    private void OnRetireConnectionId(ulong sequence, ConnectionId packetDestination)
    {
        if (sequence >= _nextLocalSequence)
        {
            throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, $"RETIRE_CONNECTION_ID for sequence {sequence}, which was never issued", (ulong)FrameType.RetireConnectionId);
        }

        LocalId? local = _localIds.Find(l => l.Sequence == sequence);
        if (local is null || local.Retired)
        {
            return;
        }

        if (local.Id == packetDestination)
        {
            throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "RETIRE_CONNECTION_ID names the connection ID the packet was sent to", (ulong)FrameType.RetireConnectionId);
        }

        local.Retired = true;
        _localIds.Remove(local);
        _endpointEvents.Enqueue(new EndpointEvent(EndpointEventKind.ConnectionIdRetired, local.Id));
        if (IsHandshakeComplete)
        {
            IssueSpareConnectionIds();
        }
    }

    /// <summary>Whether a datagram's tail is a stateless reset for one of the peer's connection IDs (RFC 9000 §10.3.1).</summary>
    private bool IsStatelessReset(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < 21)
        {
            return false;
        }

        var candidate = new StatelessResetToken(datagram[^StatelessResetToken.Length..]);
        foreach (RemoteId remote in _remoteIds)
        {
            if (remote.Used && remote.ResetToken is { } token && token == candidate)
            {
                return true;
            }
        }

        return false;
    }

    private sealed class LocalId(ulong sequence, ConnectionId id, StatelessResetToken? resetToken)
    {
        public ulong Sequence { get; } = sequence;

        public ConnectionId Id { get; } = id;

        public StatelessResetToken? ResetToken { get; } = resetToken;

        public bool Retired { get; set; }
    }

    private sealed class RemoteId(ulong sequence, ConnectionId id, StatelessResetToken? resetToken)
    {
        public ulong Sequence { get; } = sequence;

        public ConnectionId Id { get; } = id;

        public StatelessResetToken? ResetToken { get; set; } = resetToken;

        /// <summary>We sent to this ID; only such IDs' tokens may identify a stateless reset (RFC 9000 §10.3.1).</summary>
        public bool Used { get; set; }
    }
}
