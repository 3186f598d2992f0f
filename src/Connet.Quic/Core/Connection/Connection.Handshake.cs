using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Parameters;
using Connet.Quic.Core.Recovery;
using Connet.Quic.Core.Streams;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Core.Connection;

/// <summary>Driving TLS (RFC 9001 §4): CRYPTO data, key installation, transport parameters, handshake confirmation, key updates.</summary>
internal sealed partial class Connection
{
    private TimeSpan PeerMaxAckDelay => TimeSpan.FromMilliseconds(_peerParameters?.MaxAckDelayMs ?? 25);

    /// <summary>Moves whatever TLS produced (handshake bytes, secrets, completion) into the connection.</summary>
    private void PumpTls(Instant now)
    {
        while (_tls.TryTakeOutgoing(out EncryptionLevel level, out byte[] data))
        {
            PacketSpace space = _spaces[(int)level];
            if (space.CryptoSend.Append(data) != data.Length)
            {
                throw new QuicProtocolException(TransportErrorCode.InternalError, "TLS produced more handshake data than can be buffered");
            }
        }

        bool newKeys = false;
        while (_tls.TryTakeSecrets(out TlsSecrets? secrets))
        {
            byte[] send = IsClient ? secrets.ClientSecret : secrets.ServerSecret;
            byte[] receive = IsClient ? secrets.ServerSecret : secrets.ClientSecret;
            if (secrets.Level == EncryptionLevel.Handshake)
            {
                _spaces[(int)EncryptionLevel.Handshake].InstallKeys(secrets.CipherSuite, send, receive);
                _loss.SetHasHandshakeKeys();
            }
            else if (secrets.Level == EncryptionLevel.OneRtt)
            {
                _oneRtt = new OneRttKeys(secrets.CipherSuite, send, receive);
                ApplyPeerParameters();
            }

            newKeys = true;
        }

        if (!IsHandshakeComplete && _tls.IsHandshakeComplete)
        {
            ApplyPeerParameters();
            IsHandshakeComplete = true;
            _state = ConnectionState.Established;
            _handshakeDeadline = Instant.Never;
            _events.Enqueue(new ConnectionEvent(ConnectionEventKind.HandshakeCompleted));
            if (!IsClient)
            {
                // The server confirms the handshake on completion and tells the client (RFC 9001 §4.1.2).
                _handshakeDoneToSend = true;
                OnHandshakeConfirmed();
            }

            IssueSpareConnectionIds();

            // A server held back 1-RTT packets until now (RFC 9001 §5.7).
            newKeys = true;
        }

        if (newKeys)
        {
            RetryUndecryptablePackets(now);
        }
    }

    /// <summary>Validates and applies the peer's transport parameters once TLS has them (RFC 9000 §7.3, §18.2).</summary>
    private void ApplyPeerParameters()
    {
        if (_peerParameters is not null || _tls.PeerTransportParameters.IsEmpty)
        {
            return;
        }

        TransportParameters peer = TransportParameters.Decode(_tls.PeerTransportParameters.Span, sentByServer: IsClient);
        if (peer.InitialSourceConnectionId != _initialSourceConnectionIdFromPeer)
        {
            throw new QuicProtocolException(TransportErrorCode.TransportParameterError, "initial_source_connection_id does not match the peer's Source Connection ID");
        }

        if (IsClient)
        {
            if (peer.OriginalDestinationConnectionId != _originalDestinationConnectionId)
            {
                throw new QuicProtocolException(TransportErrorCode.TransportParameterError, "original_destination_connection_id does not match the ID our first Initial was sent to");
            }

            if (peer.RetrySourceConnectionId != _retrySourceConnectionId)
            {
                throw new QuicProtocolException(TransportErrorCode.TransportParameterError, "retry_source_connection_id does not match the Retry we received");
            }

            if (peer.StatelessResetToken is { } token && _remoteIds.Find(r => r.Sequence == 0) is { } first)
            {
                first.ResetToken = token;
            }
        }

        _peerParameters = peer;
        _loss.PeerMaxAckDelay = TimeSpan.FromMilliseconds(peer.MaxAckDelayMs);
        _streams.ApplyPeerLimits(new StreamLimits(
            peer.InitialMaxData,
            peer.InitialMaxStreamDataBidiLocal,
            peer.InitialMaxStreamDataBidiRemote,
            peer.InitialMaxStreamDataUni,
            peer.InitialMaxStreamsBidi,
            peer.InitialMaxStreamsUni));
    }

    private void OnHandshakeConfirmed()
    {
        if (_handshakeConfirmed)
        {
            return;
        }

        _handshakeConfirmed = true;
        _loss.SetHandshakeConfirmed();
        DiscardSpace(EncryptionLevel.Handshake);
    }

    private void DiscardSpace(EncryptionLevel level)
    {
        PacketSpace space = _spaces[(int)level];
        if (space.IsDiscarded)
        {
            return;
        }

        space.Discard();
        _lostScratch.Clear();
        _loss.DiscardSpace(level, _lostScratch);
        ReleasePackets(_lostScratch);
    }

    private void OnPeerKeyUpdate(Instant now, ulong packetNumber)
    {
        OneRttKeys keys = _oneRtt!;
        if (!IsHandshakeComplete)
        {
            throw new QuicProtocolException(TransportErrorCode.KeyUpdateError, "The peer updated keys before the handshake completed");
        }

        // The server only updates after confirming; its update proves confirmation even if HANDSHAKE_DONE was lost.
        OnHandshakeConfirmed();

        keys.AdvanceReceivePhase(packetNumber, now + (3 * _rtt.ProbeTimeout(PeerMaxAckDelay)));
        KeyUpdatesReceived++;
        if (keys.SendPhase != keys.ReceivePhase)
        {
            // The peer initiated: answer by updating ours too (RFC 9001 §6.2).
            keys.UpdateSendKey(_spaces[(int)EncryptionLevel.OneRtt].NextPacketNumber);
        }
    }

    /// <summary>Starts a key update if the previous one is confirmed (RFC 9001 §6.1); false if it is not yet allowed.</summary>
    internal bool InitiateKeyUpdate()
    {
        if (_oneRtt is not { } keys || !_handshakeConfirmed || !keys.SendPhaseConfirmed || keys.SendPhase != keys.ReceivePhase)
        {
            return false;
        }

        keys.UpdateSendKey(_spaces[(int)EncryptionLevel.OneRtt].NextPacketNumber);
        KeyUpdatesSent++;
        return true;
    }
}
