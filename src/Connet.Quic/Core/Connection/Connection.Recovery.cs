using Connet.Quic.Core.Frames;
using Connet.Quic.Core.Recovery;
using Connet.Quic.Core.Streams;

namespace Connet.Quic.Core.Connection;

/// <summary>Acknowledgements and losses (RFC 9002): what each acknowledged or lost packet carried goes back to its owner.</summary>
internal sealed partial class Connection
{
    private const ulong MaxAckDelayMicroseconds = 60_000_000;

    private PacketRange[] _ackRangesScratch = new PacketRange[16];

    private void OnAck(Instant now, EncryptionLevel level, in AckFrame frame)
    {
        int count = 0;
        foreach ((ulong smallest, ulong largest) in frame.GetRanges())
        {
            if (count == _ackRangesScratch.Length)
            {
                if (count >= 256)
                {
                    // Older ranges only re-confirm packets long since declared; ignoring them is safe.
                    break;
                }

                Array.Resize(ref _ackRangesScratch, count * 2);
            }

            _ackRangesScratch[count++] = new PacketRange(smallest, largest);
        }

        // Only 1-RTT ACKs carry a meaningful delay (RFC 9000 §13.2.5); a hostile value is capped, not wrapped.
        ulong exponent = _peerParameters?.AckDelayExponent ?? 3;
        TimeSpan ackDelay = level == EncryptionLevel.OneRtt
            ? TimeSpan.FromTicks((long)Math.Min(frame.AckDelayMicroseconds(exponent), MaxAckDelayMicroseconds) * TimeSpan.TicksPerMicrosecond)
            : TimeSpan.Zero;

        _ackedScratch.Clear();
        _lostScratch.Clear();
        if (!_loss.OnAckReceived(level, _ackRangesScratch.AsSpan(0, count), ackDelay, now, _handshakeConfirmed, PeerMaxAckDelay, _ackedScratch, _lostScratch))
        {
            throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, $"ACK of a {level} packet that was never sent", (ulong)FrameType.Ack);
        }

        foreach (SentPacket packet in _ackedScratch)
        {
            OnPacketAcknowledged(packet);
        }

        foreach (SentPacket packet in _lostScratch)
        {
            OnPacketLost(packet);
        }

        if (level == EncryptionLevel.OneRtt && _oneRtt is { SendPhaseConfirmed: false } keys && frame.LargestAcknowledged >= keys.FirstPacketNumberInSendPhase)
        {
            keys.SendPhaseConfirmed = true;
        }

        ReleasePackets(_ackedScratch);
        ReleasePackets(_lostScratch);
    }

    private void ReleasePackets(List<SentPacket> packets)
    {
        foreach (SentPacket packet in packets)
        {
            _loss.Release(packet);
        }

        packets.Clear();
    }

    private void OnPacketAcknowledged(SentPacket packet)
    {
        foreach (SentFrame frame in packet.Frames)
        {
            switch (frame.Kind)
            {
                case SentFrameKind.Stream:
                    _streams.OnStreamDataAcked(frame.StreamId, frame.Offset, frame.Length, frame.Fin);
                    break;
                case SentFrameKind.Crypto:
                    _spaces[(int)packet.Level].CryptoSend.OnAcked(frame.Offset, frame.Length, false);
                    break;
                case SentFrameKind.Ack:
                    _spaces[(int)packet.Level].Received.OnAckAcknowledged(frame.Value);
                    break;
                case SentFrameKind.Ping when frame.Value == MtuProbeMarker:
                    OnMtuProbeAcknowledged(packet.Size);
                    break;
                case SentFrameKind.StreamControl when ControlFrameRecord.TryFromSentFrame(frame, out ControlFrame control):
                    _streams.OnControlFrameAcked(control);
                    break;
            }
        }
    }

    private void OnPacketLost(SentPacket packet)
    {
        foreach (SentFrame frame in packet.Frames)
        {
            switch (frame.Kind)
            {
                case SentFrameKind.Stream:
                    _streams.OnStreamDataLost(frame.StreamId, frame.Offset, frame.Length, frame.Fin);
                    break;
                case SentFrameKind.Crypto:
                    if (!_spaces[(int)packet.Level].IsDiscarded)
                    {
                        _spaces[(int)packet.Level].CryptoSend.OnLost(frame.Offset, frame.Length, false);
                    }

                    break;
                case SentFrameKind.StreamControl when ControlFrameRecord.TryFromSentFrame(frame, out ControlFrame control):
                    _streams.OnControlFrameLost(control);
                    break;
                case SentFrameKind.HandshakeDone:
                    _handshakeDoneToSend = true;
                    break;
                case SentFrameKind.Ping when frame.Value == MtuProbeMarker:
                    OnMtuProbeLost();
                    break;
                case SentFrameKind.NewConnectionId:
                    if (_localIds.Exists(l => l.Sequence == frame.Value))
                    {
                        _newConnectionIdsToSend.Enqueue(frame.Value);
                    }

                    break;
                case SentFrameKind.RetireConnectionId:
                    _retireConnectionIdsToSend.Enqueue(frame.Value);
                    break;
            }
        }
    }
}
