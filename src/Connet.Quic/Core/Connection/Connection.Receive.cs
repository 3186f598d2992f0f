using System.Net;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Frames;
using Connet.Quic.Core.Packets;
using Connet.Quic.Core.Recovery;
using Connet.Quic.Core.Streams;

namespace Connet.Quic.Core.Connection;

/// <summary>Receiving: datagrams to packets (RFC 9000 §12.2), packet protection (RFC 9001 §5), frames (§19).</summary>
internal sealed partial class Connection
{
    /// <summary>Packets that arrived before their keys (reordering during the handshake), retried once keys appear.</summary>
    private const int MaxBufferedUndecryptable = 16;


    private readonly Queue<(EncryptionLevel Level, byte[] Packet, IPEndPoint Remote)> _undecryptable = new();

    /// <summary>Feeds one received UDP datagram (may hold coalesced packets; decrypted in place).</summary>
    public void HandleDatagram(Instant now, IPEndPoint remote, Span<byte> datagram)
    {
        if (_state is ConnectionState.Drained or ConnectionState.Draining)
        {
            return;
        }

        // Servers do not migrate: a client discards what comes from any other address (RFC 9000 §9).
        if (IsClient && !remote.Equals(_path.Remote))
        {
            return;
        }

        if (remote.Equals(_path.Remote))
        {
            _path.BytesReceived += datagram.Length;
            UpdateAmplificationBlocked();
        }

        bool anyProcessed = false;
        ConnectionId firstDestination = default;
        int offset = 0;
        try
        {
            while (offset < datagram.Length)
            {
                Span<byte> rest = datagram[offset..];
                if (!PacketParser.TryParse(rest, _options.LocalConnectionIdLength, out PacketHeader header))
                {
                    // Bytes after the last packet (some stacks pad with zeros) or garbage: ignore the remainder.
                    break;
                }

                Span<byte> packet = rest[..header.PacketLength];
                offset += header.PacketLength;

                // Unknown versions may carry IDs of up to 255 bytes; such a packet is simply not ours.
                if (!ConnectionId.TryCreate(packet.Slice(header.DestinationConnectionIdOffset, header.DestinationConnectionIdLength), out ConnectionId destination))
                {
                    continue;
                }

                if (offset == header.PacketLength)
                {
                    firstDestination = destination;
                }
                else if (destination != firstDestination)
                {
                    // Coalesced packets must share a destination ID (§12.2); skip the odd one.
                    continue;
                }

                anyProcessed |= ProcessPacket(now, remote, header, packet, datagram.Length, destination);
                if (_state is ConnectionState.Draining or ConnectionState.Drained)
                {
                    return;
                }
            }
        }
        catch (QuicProtocolException error)
        {
            CloseWithTransportError(now, error);
            return;
        }

        if (!anyProcessed && IsStatelessReset(datagram))
        {
            EnterDraining(now, new ConnectionCloseInfo(ConnectionCloseReason.StatelessReset, 0, 0, "The peer reset the connection (stateless reset)."));
            return;
        }

        if (anyProcessed && _state == ConnectionState.Closing)
        {
            // Answer a peer that keeps talking with another CONNECTION_CLOSE, a bounded number of times (§10.2.1).
            if (_closePacketsAllowed > 0)
            {
                _sendConnectionClose = true;
            }
        }
    }

    private bool ProcessPacket(Instant now, IPEndPoint remote, in PacketHeader header, Span<byte> packet, int datagramLength, ConnectionId destination)
    {
        if (header.IsLongHeader && header.Type != PacketType.VersionNegotiation && !header.IsVersionSupported)
        {
            return false;
        }

        switch (header.Type)
        {
            case PacketType.VersionNegotiation:
                OnVersionNegotiation(now, packet);
                return false;
            case PacketType.Retry:
                OnRetry(header, packet);
                return false;
            case PacketType.ZeroRtt:
                return false;
        }

        EncryptionLevel level = header.Type switch
        {
            PacketType.Initial => EncryptionLevel.Initial,
            PacketType.Handshake => EncryptionLevel.Handshake,
            _ => EncryptionLevel.OneRtt,
        };

        if (level == EncryptionLevel.Initial && !IsClient && datagramLength < MinimumDatagramSize)
        {
            return false;
        }

        PacketSpace space = _spaces[(int)level];
        if (space.IsDiscarded)
        {
            return false;
        }

        IHeaderKey? headerKey = level == EncryptionLevel.OneRtt ? _oneRtt?.ReceiveHeaderKey : space.ReceiveHeaderKey;

        // A server has 1-RTT keys before the client's Finished, but must not act on 1-RTT packets until it verified it (RFC 9001 §5.7).
        bool heldBack = level == EncryptionLevel.OneRtt && !IsClient && !IsHandshakeComplete;
        if (headerKey is null || heldBack)
        {
            if (_undecryptable.Count < MaxBufferedUndecryptable)
            {
                _undecryptable.Enqueue((level, packet.ToArray(), remote));
            }

            return false;
        }

        HeaderProtection.Remove(packet, header.PacketNumberOffset, headerKey, out int packetNumberLength, out uint truncated);
        ulong packetNumber = PacketNumberCoding.Decode(space.Received.LargestReceived, truncated, packetNumberLength);
        int headerLength = header.PacketNumberOffset + packetNumberLength;
        int payloadLength = packet.Length - headerLength - 16;
        if (payloadLength < 0)
        {
            return false;
        }

        Span<byte> payload = packet.Slice(headerLength, payloadLength);
        ReadOnlySpan<byte> tag = packet[^16..];

        IPacketKey key;
        bool nextPhase = false;
        if (level == EncryptionLevel.OneRtt)
        {
            OneRttKeys keys = _oneRtt!;
            bool phase = (packet[0] & 0x04) != 0;
            if (phase == keys.ReceivePhase)
            {
                key = keys.ReceiveKey;
            }
            else if (keys.PreviousReceiveKey is not null && packetNumber < keys.FirstPacketNumberInReceivePhase)
            {
                key = keys.PreviousReceiveKey;
            }
            else
            {
                key = keys.NextReceiveKey;
                nextPhase = true;
            }
        }
        else
        {
            key = space.ReceivePacketKey!;
        }

        if (!key.TryOpen(packetNumber, packet[..headerLength], payload, tag))
        {
            if (++_invalidPackets >= key.IntegrityLimit)
            {
                throw new QuicProtocolException(TransportErrorCode.AeadLimitReached, "Too many packets failed authentication");
            }

            return false;
        }

        int reservedBits = header.IsLongHeader ? 0x0c : 0x18;
        if ((packet[0] & reservedBits) != 0)
        {
            throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "Reserved header bits are set");
        }

        if (payloadLength == 0)
        {
            throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "A packet carried no frames");
        }

        if (space.Received.IsDuplicate(packetNumber))
        {
            return true;
        }

        if (nextPhase)
        {
            OnPeerKeyUpdate(now, packetNumber);
        }
        else if (level == EncryptionLevel.OneRtt)
        {
            _oneRtt!.NoteReceived(packetNumber);
        }

        if (header.IsLongHeader && _peerInitialSourceSet
            && !packet.Slice(header.SourceConnectionIdOffset, header.SourceConnectionIdLength).SequenceEqual(_initialSourceConnectionIdFromPeer.Span))
        {
            // Once the peer's ID is known, long-header packets with another source ID are not ours (RFC 9000 §7.2).
            return false;
        }

        if (header.IsLongHeader && !_peerInitialSourceSet)
        {
            var source = new ConnectionId(packet.Slice(header.SourceConnectionIdOffset, header.SourceConnectionIdLength));
            _peerInitialSourceSet = true;
            _initialSourceConnectionIdFromPeer = source;
            _remoteConnectionId = source;
            _remoteIds.Add(new RemoteId(0, source, null) { Used = true });
        }

        _receivedAnyPacket = true;
        if (!IsClient && level == EncryptionLevel.Handshake)
        {
            // A Handshake packet proves the client owns its address and got our Initial (RFC 9001 §4.9.1).
            OnPeerAddressValidated();
            DiscardSpace(EncryptionLevel.Initial);
        }

        bool isLargest = space.Received.LargestReceived is not { } largest || packetNumber > largest;
        ProcessFrames(now, level, payload, remote, datagramLength, destination, out bool ackEliciting, out bool probingOnly);
        space.Received.OnPacketReceived(packetNumber, ackEliciting, now, immediateAckSpace: level != EncryptionLevel.OneRtt);

        if (level == EncryptionLevel.OneRtt && isLargest && !probingOnly && !remote.Equals(_path.Remote) && _handshakeConfirmed && _state == ConnectionState.Established)
        {
            MigrateTo(remote, now);
            _path.BytesReceived += datagramLength;
        }

        _lastActivity = now;
        _ackElicitingSentSinceReceive = false;
        return true;
    }

    private void ProcessFrames(Instant now, EncryptionLevel level, ReadOnlySpan<byte> payload, IPEndPoint remote, int datagramLength, ConnectionId destination, out bool ackEliciting, out bool probingOnly)
    {
        ackEliciting = false;
        probingOnly = true;
        var reader = new SpanReader(payload);
        while (!reader.IsEmpty)
        {
            FrameType type = FrameTypes.Read(ref reader, out ulong rawType);
            if (!FrameTypes.IsAllowedAt(type, level))
            {
                throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, $"{type} is not allowed in {level} packets", rawType);
            }

            ackEliciting |= FrameTypes.IsAckEliciting(type);
            if (type is not (FrameType.Padding or FrameType.PathChallenge or FrameType.PathResponse or FrameType.NewConnectionId))
            {
                probingOnly = false;
            }

            switch (type)
            {
                case FrameType.Padding:
                    PaddingFrame.Decode(ref reader);
                    break;
                case FrameType.Ping:
                    break;
                case FrameType.Ack:
                case FrameType.AckEcn:
                    OnAck(now, level, AckFrame.Decode(ref reader, rawType));
                    break;
                case FrameType.Crypto:
                    OnCrypto(now, level, CryptoFrame.Decode(ref reader));
                    break;
                case FrameType.NewToken:
                    NewTokenFrame.Decode(ref reader);
                    if (!IsClient)
                    {
                        throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "A client sent NEW_TOKEN", rawType);
                    }

                    break;
                case FrameType.Stream:
                    {
                        StreamFrame frame = StreamFrame.Decode(ref reader, rawType);
                        _streams.OnStreamFrame(frame.StreamId, frame.Offset, frame.Data, frame.Fin);
                        break;
                    }

                case FrameType.ResetStream:
                    {
                        ResetStreamFrame frame = ResetStreamFrame.Decode(ref reader);
                        _streams.OnResetStream(frame.StreamId, frame.ApplicationErrorCode, frame.FinalSize);
                        break;
                    }

                case FrameType.StopSending:
                    {
                        StopSendingFrame frame = StopSendingFrame.Decode(ref reader);
                        _streams.OnStopSending(frame.StreamId, frame.ApplicationErrorCode);
                        break;
                    }

                case FrameType.MaxData:
                    _streams.OnMaxData(MaxDataFrame.Decode(ref reader).Maximum);
                    break;
                case FrameType.MaxStreamData:
                    {
                        MaxStreamDataFrame frame = MaxStreamDataFrame.Decode(ref reader);
                        _streams.OnMaxStreamData(frame.StreamId, frame.Maximum);
                        break;
                    }

                case FrameType.MaxStreamsBidi:
                case FrameType.MaxStreamsUni:
                    {
                        MaxStreamsFrame frame = MaxStreamsFrame.Decode(ref reader, rawType);
                        _streams.OnMaxStreams(frame.Bidirectional, frame.Maximum);
                        break;
                    }

                case FrameType.DataBlocked:
                    _streams.OnDataBlocked(DataBlockedFrame.Decode(ref reader).Limit);
                    break;
                case FrameType.StreamDataBlocked:
                    {
                        StreamDataBlockedFrame frame = StreamDataBlockedFrame.Decode(ref reader);
                        _streams.OnStreamDataBlocked(frame.StreamId, frame.Limit);
                        break;
                    }

                case FrameType.StreamsBlockedBidi:
                case FrameType.StreamsBlockedUni:
                    {
                        StreamsBlockedFrame frame = StreamsBlockedFrame.Decode(ref reader, rawType);
                        _streams.OnStreamsBlocked(frame.Bidirectional, frame.Limit);
                        break;
                    }

                case FrameType.NewConnectionId:
                    OnNewConnectionId(NewConnectionIdFrame.Decode(ref reader));
                    break;
                case FrameType.RetireConnectionId:
                    OnRetireConnectionId(RetireConnectionIdFrame.Decode(ref reader).SequenceNumber, destination);
                    break;
                case FrameType.PathChallenge:
                    OnPathChallenge(PathChallengeFrame.Decode(ref reader).Data, remote, datagramLength);
                    break;
                case FrameType.PathResponse:
                    OnPathResponse(PathResponseFrame.Decode(ref reader).Data);
                    break;
                case FrameType.ConnectionCloseTransport:
                case FrameType.ConnectionCloseApplication:
                    OnConnectionClose(now, ConnectionCloseFrame.Decode(ref reader, rawType));
                    return;
                case FrameType.HandshakeDone:
                    if (!IsClient)
                    {
                        throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "A client sent HANDSHAKE_DONE", rawType);
                    }

                    OnHandshakeConfirmed();
                    break;
                default:
                    throw new QuicProtocolException(TransportErrorCode.FrameEncodingError, $"Unknown frame type 0x{rawType:x}", rawType);
            }
        }
    }

    private void OnCrypto(Instant now, EncryptionLevel level, in CryptoFrame frame)
    {
        PacketSpace space = _spaces[(int)level];
        space.CryptoReceive.Insert(frame.Offset, frame.Data, space.CryptoReceive.ReadOffset + PacketSpace.MaxCryptoBuffer);
        Span<byte> chunk = stackalloc byte[1024];
        int read;
        while ((read = space.CryptoReceive.Read(chunk)) > 0)
        {
            _tls.HandleCryptoData(level, chunk[..read]);
        }

        PumpTls(now);
    }

    private void OnConnectionClose(Instant now, in ConnectionCloseFrame frame)
    {
        string reason = System.Text.Encoding.UTF8.GetString(frame.Reason);
        ConnectionCloseInfo info = frame.IsApplication
            ? new ConnectionCloseInfo(ConnectionCloseReason.PeerApplication, frame.ErrorCode, 0, reason)
            : new ConnectionCloseInfo(ConnectionCloseReason.PeerTransport, frame.ErrorCode, frame.FrameType, reason);
        EnterDraining(now, info);
    }

    private void OnVersionNegotiation(Instant now, ReadOnlySpan<byte> packet)
    {
        if (!IsClient || _receivedAnyPacket || !PacketWriter.TryParseVersionNegotiation(packet, out uint[] versions))
        {
            return;
        }

        if (Array.IndexOf(versions, QuicVersion.Version1) >= 0)
        {
            // A VN listing the version we used is forged or stale (RFC 9000 §6.2).
            return;
        }

        string offered = string.Join(", ", versions.Select(v => $"0x{v:x8}"));
        EnterDraining(now, new ConnectionCloseInfo(ConnectionCloseReason.VersionNegotiation, 0, 0, $"The server does not support QUIC version 1 (it offered: {offered})."));
    }

    private void OnRetry(in PacketHeader header, ReadOnlySpan<byte> packet)
    {
        if (!IsClient || _receivedAnyPacket || _retryReceived || header.TokenLength == 0)
        {
            return;
        }

        var source = new ConnectionId(packet.Slice(header.SourceConnectionIdOffset, header.SourceConnectionIdLength));
        if (source == _remoteConnectionId || !RetryIntegrity.Verify(_originalDestinationConnectionId.Span, packet))
        {
            return;
        }

        _retryReceived = true;
        _retrySourceConnectionId = source;
        _remoteConnectionId = source;
        _retryToken = packet.Slice(header.TokenOffset, header.TokenLength).ToArray();
        (byte[] clientSecret, byte[] serverSecret) = QuicKeys.DeriveInitialSecrets(source.Span);
        InstallInitialKeys(clientSecret, serverSecret);

        // Everything sent so far in Initial must be sent again, in new packets carrying the token.
        _lostScratch.Clear();
        _loss.DiscardSpace(EncryptionLevel.Initial, _lostScratch);
        ReleasePackets(_lostScratch);
        PacketSpace initial = _spaces[(int)EncryptionLevel.Initial];
        initial.CryptoSend.OnLost(0, (int)initial.CryptoSend.WrittenLength, false);
    }

    private void RetryUndecryptablePackets(Instant now)
    {
        int count = _undecryptable.Count;
        for (int i = 0; i < count && _state is ConnectionState.Handshaking or ConnectionState.Established; i++)
        {
            (EncryptionLevel level, byte[] packet, IPEndPoint remote) = _undecryptable.Dequeue();
            bool haveKeys = level == EncryptionLevel.OneRtt ? _oneRtt is not null && (IsClient || IsHandshakeComplete) : _spaces[(int)level].HasReceiveKeys;
            if (!haveKeys)
            {
                _undecryptable.Enqueue((level, packet, remote));
                continue;
            }

            if (PacketParser.TryParse(packet, _options.LocalConnectionIdLength, out PacketHeader header) && header.PacketLength == packet.Length)
            {
                var destination = new ConnectionId(packet.AsSpan(header.DestinationConnectionIdOffset, header.DestinationConnectionIdLength));
                ProcessPacket(now, remote, header, packet, MinimumDatagramSize, destination);
            }
        }
    }
}
