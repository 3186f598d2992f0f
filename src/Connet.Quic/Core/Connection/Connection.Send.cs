using System.Net;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Frames;
using Connet.Quic.Core.Packets;
using Connet.Quic.Core.Recovery;
using Connet.Quic.Core.Streams;

namespace Connet.Quic.Core.Connection;

/// <summary>
/// Sending: one datagram per call, coalescing Initial, Handshake and 1-RTT packets (RFC 9000 §12.2), under the
/// congestion window, pacing and the anti-amplification limit. Only ACKs and CONNECTION_CLOSE ignore the window.
/// </summary>
internal sealed partial class Connection
{
    /// <summary>Below this much room a new packet is not worth starting.</summary>
    private const int MinimumPacketRoom = 48;

    private const int TagLength = 16;

    private const int MaxAckOnlyPackets = 20;

    /// <summary>Keeps a CONNECTION_CLOSE (and its reason phrase) well inside one small packet.</summary>
    private const int MaxCloseFrameLength = 256;

    private readonly byte[] _cryptoScratch = new byte[1500];
    private Instant _pacingDeadline = Instant.Never;
    private bool _pathFrameWritten;

    /// <summary>Writes the next datagram to send into <paramref name="buffer"/>; 0 when there is nothing to send now.</summary>
    public int PollTransmit(Instant now, Span<byte> buffer, out IPEndPoint destination)
    {
        destination = _path.Remote;
        _pacingDeadline = Instant.Never;
        if (_state is ConnectionState.Draining or ConnectionState.Drained)
        {
            return 0;
        }

        int limit = Math.Min(buffer.Length, _maxDatagramSize);
        long budget = AmplificationBudget;
        if (budget < limit)
        {
            if (budget < MinimumDatagramSize)
            {
                UpdateAmplificationBlocked();
                return 0;
            }

            limit = (int)budget;
        }

        if (_state == ConnectionState.Closing)
        {
            return _sendConnectionClose ? WriteClosePacket(now, buffer[..limit]) : 0;
        }

        if (_pathResponses.TryPeek(out PendingPathResponse elsewhere) && !elsewhere.Destination.Equals(_path.Remote))
        {
            _pathResponses.Dequeue();
            destination = elsewhere.Destination;
            return WritePathResponseDatagram(now, buffer[..limit], elsewhere);
        }

        if (MtuProbeDue && _congestion.CanSend(MtuProbeSize))
        {
            return WriteMtuProbe(now, buffer);
        }

        bool paced = false;
        if (_rtt.HasSample)
        {
            Instant next = _pacer.NextSendTime(now, limit, _congestion.CongestionWindow, _rtt.SmoothedRtt);
            if (next > now)
            {
                paced = true;
                _pacingDeadline = next;
            }
        }

        int written = 0;
        bool needsPadding = false;
        OpenPacket open = default;
        for (int level = 0; level < 3; level++)
        {
            var encryptionLevel = (EncryptionLevel)level;
            if (!CanSendIn(encryptionLevel) || limit - written < MinimumPacketRoom)
            {
                continue;
            }

            PacketSpace space = _spaces[level];
            bool probe = space.ProbesPending > 0;
            bool mayElicit = probe || (!paced && _congestion.CanSend(limit - written));
            if (!TryWritePacket(now, encryptionLevel, buffer, written, limit, mayElicit, probe, out OpenPacket next))
            {
                continue;
            }

            if (open.IsOpen)
            {
                FinishPacket(now, buffer, ref open, 0);
            }

            open = next;
            if (encryptionLevel == EncryptionLevel.Initial && (IsClient || open.Record!.AckEliciting))
            {
                needsPadding = true;
            }

            // PATH_CHALLENGE and PATH_RESPONSE must travel in 1200-byte datagrams to prove the path carries them (RFC 9000 §8.2).
            needsPadding |= _pathFrameWritten;
            _pathFrameWritten = false;

            written = open.End;
        }

        if (!open.IsOpen)
        {
            // Nothing left to send although the window had room: acknowledgements now say nothing about the
            // path's capacity, so they must not grow the window (RFC 9002 §7.8).
            _congestion.IsApplicationLimited = !paced && _congestion.CanSend(limit);
            return 0;
        }

        int padTo = needsPadding ? Math.Min(MinimumDatagramSize, limit) : 0;
        written = FinishPacket(now, buffer, ref open, padTo);
        _path.BytesSent += written;
        return written;
    }

    private bool CanSendIn(EncryptionLevel level) => level == EncryptionLevel.OneRtt
        ? _oneRtt is not null
        : _spaces[(int)level] is { IsDiscarded: false, HasSendKeys: true };

    /// <summary>Writes the header and frames of one packet; leaves it open so the datagram's last packet can still be padded.</summary>
    private bool TryWritePacket(Instant now, EncryptionLevel level, Span<byte> buffer, int start, int limit, bool mayElicit, bool probe, out OpenPacket open)
    {
        open = default;
        PacketSpace space = _spaces[(int)level];
        if (level == EncryptionLevel.OneRtt && _oneRtt!.PacketsSentWithKey >= _options.KeyUpdateInterval && !InitiateKeyUpdate()
            && _oneRtt.PacketsSentWithKey >= _oneRtt.SendKey.ConfidentialityLimit)
        {
            // The peer never confirmed our last update and the key is used up (RFC 9001 §6.6).
            throw new QuicProtocolException(TransportErrorCode.AeadLimitReached, "The packet protection key reached its confidentiality limit");
        }

        ulong packetNumber = space.NextPacketNumber;
        int packetNumberLength = PacketNumberCoding.EncodedLength(packetNumber, _loss.LargestAcked(level));
        int lengthOffset = -1;
        int packetNumberOffset;
        int headerLength;
        Span<byte> target = buffer[start..limit];
        ConnectionId localId = _localIds[0].Id;
        if (level == EncryptionLevel.OneRtt)
        {
            headerLength = PacketWriter.WriteShortHeader(target, false, _oneRtt!.SendPhase, _remoteConnectionId.Span, packetNumber, packetNumberLength, out packetNumberOffset);
        }
        else
        {
            PacketType type = level == EncryptionLevel.Initial ? PacketType.Initial : PacketType.Handshake;
            ReadOnlySpan<byte> token = level == EncryptionLevel.Initial && IsClient ? _retryToken : [];
            headerLength = PacketWriter.WriteLongHeader(target, type, _remoteConnectionId.Span, localId.Span, token, packetNumber, packetNumberLength, out lengthOffset, out packetNumberOffset);
        }

        int payloadStart = start + headerLength;
        int payloadLimit = limit - TagLength;
        if (payloadLimit - payloadStart < 8)
        {
            return false;
        }

        SentPacket record = _loss.RentPacket();
        var writer = new SpanWriter(buffer[payloadStart..payloadLimit]);
        bool ackWritten = WriteAck(now, level, ref writer, record);
        bool elicits = false;

        if (mayElicit)
        {
            elicits |= WriteCrypto(space, ref writer, record);
            if (level == EncryptionLevel.OneRtt)
            {
                elicits |= WriteOneRttControl(now, ref writer, record);
                elicits |= WriteStreamData(ref writer, record);
            }

            bool keepAliveDue = level == EncryptionLevel.OneRtt && _options.KeepAliveInterval > TimeSpan.Zero && now >= _lastAckElicitingSent + _options.KeepAliveInterval;

            // A peer never acknowledges ACK-only packets by themselves; an occasional PING lets it (RFC 9000 §13.2.4).
            bool ackOnlyBacklog = ackWritten && _loss.NonAckElicitingSentSinceAckEliciting(level) >= MaxAckOnlyPackets;
            if (!elicits && (probe || keepAliveDue || ackOnlyBacklog) && writer.Remaining >= 1)
            {
                new PingFrame().Encode(ref writer);
                record.Frames.Add(new SentFrame(SentFrameKind.Ping));
                elicits = true;
            }
        }

        bool ackDue = ackWritten && space.Received.AckPending && space.Received.AckDeadline <= now;
        if (!elicits && !ackDue)
        {
            _loss.Release(record);
            return false;
        }

        if (ackWritten)
        {
            space.Received.OnAckSent(now);
        }

        if (probe && elicits)
        {
            space.ProbesPending--;
        }

        record.AckEliciting = elicits;
        open = new OpenPacket(level, packetNumber, packetNumberLength, start, lengthOffset < 0 ? -1 : start + lengthOffset, start + packetNumberOffset, payloadStart, payloadStart + writer.Position, payloadLimit, record);
        space.NextPacketNumber++;
        return true;
    }

    private bool WriteAck(Instant now, EncryptionLevel level, ref SpanWriter writer, SentPacket record)
    {
        ReceivedPacketTracker received = _spaces[(int)level].Received;
        if (!received.HasUnsentAcknowledgements)
        {
            return false;
        }

        ReadOnlySpan<PacketRange> ranges = received.RangesDescending;
        int exponent = level == EncryptionLevel.OneRtt ? _options.AckDelayExponent : 3;
        ulong ackDelay = (ulong)Math.Max(0, received.AckDelay(now).Ticks / TimeSpan.TicksPerMicrosecond) >> exponent;

        Span<AckRange> encoded = stackalloc AckRange[Math.Min(ranges.Length, 32)];
        int count = encoded.Length;
        for (int i = 0; i < count; i++)
        {
            encoded[i] = new AckRange(ranges[i].Smallest, ranges[i].Largest);
        }

        while (count > 0 && AckFrame.EncodedLengthFor(encoded[..count], ackDelay, null) > writer.Remaining)
        {
            count--;
        }

        if (count == 0)
        {
            return false;
        }

        AckFrame.Encode(ref writer, encoded[..count], ackDelay, null);
        record.Frames.Add(new SentFrame(SentFrameKind.Ack, Value: encoded[0].Largest));
        return true;
    }

    private bool WriteCrypto(PacketSpace space, ref SpanWriter writer, SentPacket record)
    {
        bool wrote = false;
        while (writer.Remaining > 8 && space.CryptoSend.TryGetNext(writer.Remaining, ulong.MaxValue, out ulong offset, out int length, out _))
        {
            int fits = Math.Min(length, CryptoFrame.MaxDataLength(offset, writer.Remaining));
            if (fits <= 0)
            {
                break;
            }

            Span<byte> data = _cryptoScratch.AsSpan(0, fits);
            space.CryptoSend.CopyTo(offset, data);
            CryptoFrame.Encode(ref writer, offset, data);
            space.CryptoSend.MarkSent(offset, fits, false);
            record.Frames.Add(new SentFrame(SentFrameKind.Crypto, Offset: offset, Length: fits));
            wrote = true;
        }

        return wrote;
    }

    private bool WriteOneRttControl(Instant now, ref SpanWriter writer, SentPacket record)
    {
        bool wrote = false;
        if (_handshakeDoneToSend && writer.Remaining >= 1)
        {
            new HandshakeDoneFrame().Encode(ref writer);
            record.Frames.Add(new SentFrame(SentFrameKind.HandshakeDone));
            _handshakeDoneToSend = false;
            wrote = true;
        }

        while (writer.Remaining >= 9 && _pathResponses.TryPeek(out PendingPathResponse response) && response.Destination.Equals(_path.Remote))
        {
            _pathResponses.Dequeue();
            new PathResponseFrame(response.Data).Encode(ref writer);
            record.Frames.Add(new SentFrame(SentFrameKind.Ping));
            _pathFrameWritten = true;
            wrote = true;
        }

        if (_path.ChallengePending && _path.ChallengeData is { } challenge && writer.Remaining >= 9)
        {
            new PathChallengeFrame(challenge).Encode(ref writer);
            record.Frames.Add(new SentFrame(SentFrameKind.Ping));
            _path.ChallengePending = false;
            _pathFrameWritten = true;
            wrote = true;
        }

        while (_newConnectionIdsToSend.Count > 0 && writer.Remaining >= 48)
        {
            ulong sequence = _newConnectionIdsToSend.Dequeue();
            LocalId? local = _localIds.Find(l => l.Sequence == sequence);
            if (local is null)
            {
                continue;
            }

            new NewConnectionIdFrame(local.Sequence, 0, local.Id, local.ResetToken ?? RandomResetToken()).Encode(ref writer);
            record.Frames.Add(new SentFrame(SentFrameKind.NewConnectionId, Value: sequence));
            wrote = true;
        }

        while (_retireConnectionIdsToSend.Count > 0 && writer.Remaining >= 9)
        {
            ulong sequence = _retireConnectionIdsToSend.Dequeue();
            new RetireConnectionIdFrame(sequence).Encode(ref writer);
            record.Frames.Add(new SentFrame(SentFrameKind.RetireConnectionId, Value: sequence));
            wrote = true;
        }

        while (writer.Remaining >= 32 && _streams.TryDequeueControlFrame(out ControlFrame control))
        {
            EncodeControlFrame(ref writer, control);
            record.Frames.Add(ControlFrameRecord.ToSentFrame(control));
            wrote = true;
        }

        return wrote;
    }

    private StatelessResetToken RandomResetToken()
    {
        Span<byte> bytes = stackalloc byte[StatelessResetToken.Length];
        _random.Fill(bytes);
        return new StatelessResetToken(bytes);
    }

    private bool WriteStreamData(ref SpanWriter writer, SentPacket record)
    {
        bool wrote = false;
        while (writer.Remaining > 24 && _streams.TryPeekSend(writer.Remaining, out StreamSendCandidate candidate))
        {
            int fits = StreamFrame.MaxDataLength(candidate.StreamId, candidate.Offset, writer.Remaining, withLength: true);
            int length = Math.Min(candidate.MaxLength, fits);
            if (length <= 0 && !(candidate.Fin && candidate.MaxLength == 0))
            {
                break;
            }

            length = Math.Max(length, 0);
            bool fin = candidate.Fin && length == candidate.MaxLength;
            Span<byte> data = StreamFrame.EncodeHeaderAndReserve(ref writer, candidate.StreamId, candidate.Offset, length, fin, withLength: true);
            _streams.CommitSend(candidate, data, fin);
            record.Frames.Add(new SentFrame(SentFrameKind.Stream, candidate.StreamId, candidate.Offset, length, fin));
            wrote = true;
        }

        return wrote;
    }

    /// <summary>Pads, seals and records the open packet; returns the datagram length so far.</summary>
    private int FinishPacket(Instant now, Span<byte> buffer, ref OpenPacket open, int padDatagramTo)
    {
        int payloadEnd = open.PayloadEnd;

        // Header protection samples 16 bytes starting 4 after the packet number (RFC 9001 §5.4.2).
        int minimumPayload = Math.Max(0, 4 - open.PacketNumberLength);
        int padded = Math.Max(payloadEnd, open.PayloadStart + minimumPayload);
        if (padDatagramTo > 0)
        {
            padded = Math.Max(padded, Math.Min(open.PayloadLimit, padDatagramTo - TagLength));
        }

        buffer[payloadEnd..padded].Clear();
        payloadEnd = padded;

        int payloadLength = payloadEnd - open.PayloadStart;
        if (open.LengthOffset >= 0)
        {
            PacketWriter.PatchLength(buffer[open.Start..], open.LengthOffset - open.Start, open.PacketNumberLength + payloadLength + TagLength);
        }

        (IPacketKey packetKey, IHeaderKey headerKey) = SendKeys(open.Level);
        int packetLength = PacketWriter.Protect(buffer[open.Start..], open.PacketNumberOffset - open.Start, open.PacketNumberLength, open.PacketNumber, payloadLength, packetKey, headerKey);
        if (open.Level == EncryptionLevel.OneRtt)
        {
            _oneRtt!.PacketsSentWithKey++;
        }

        SentPacket record = open.Record!;
        record.PacketNumber = open.PacketNumber;
        record.Level = open.Level;
        record.TimeSent = now;
        record.Size = packetLength;
        // A PMTU probe is left out of bytes in flight so its loss is no congestion signal (RFC 9000 §14.4).
        record.InFlight = (record.AckEliciting || padded > open.PayloadEnd) && !IsMtuProbe(record);
        if (record.AckEliciting)
        {
            _lastAckElicitingSent = now;
            if (!_ackElicitingSentSinceReceive)
            {
                _lastActivity = now;
                _ackElicitingSentSinceReceive = true;
            }
        }

        // Every packet is recorded, ACK-only ones too: the peer's ACKs cover their numbers.
        _loss.OnPacketSent(record);
        if (record.InFlight)
        {
            _pacer.OnPacketSent(now, packetLength, _congestion.CongestionWindow, _rtt.SmoothedRtt);
        }

        if (IsClient && open.Level == EncryptionLevel.Handshake)
        {
            // A client drops Initial keys once it sends its first Handshake packet (RFC 9001 §4.9.1).
            DiscardSpace(EncryptionLevel.Initial);
        }

        int end = open.Start + packetLength;
        open = default;
        return end;
    }

    private (IPacketKey Packet, IHeaderKey Header) SendKeys(EncryptionLevel level) => level == EncryptionLevel.OneRtt
        ? (_oneRtt!.SendKey, _oneRtt.SendHeaderKey)
        : (_spaces[(int)level].SendPacketKey!, _spaces[(int)level].SendHeaderKey!);

    /// <summary>A CONNECTION_CLOSE in the highest space we can send in; an application close before 1-RTT is sent as a transport APPLICATION_ERROR (RFC 9000 §10.2.3).</summary>
    private int WriteClosePacket(Instant now, Span<byte> buffer)
    {
        _sendConnectionClose = false;
        _closePacketsAllowed--;
        int written = 0;
        for (int level = 0; level < 3; level++)
        {
            var encryptionLevel = (EncryptionLevel)level;
            if (!CanSendIn(encryptionLevel) || buffer.Length - written < MinimumPacketRoom + 16)
            {
                continue;
            }

            bool application = _closeIsApplication && encryptionLevel == EncryptionLevel.OneRtt;
            ulong code = _closeIsApplication && !application ? (ulong)TransportErrorCode.ApplicationError : _closeErrorCode;
            string reason = _closeIsApplication && !application ? string.Empty : _closeReason;
            // A client datagram with an Initial must reach 1200 bytes or the server drops it (RFC 9000 §14.1).
            int padTo = IsClient && _spaces[(int)EncryptionLevel.Initial] is { IsDiscarded: false, HasSendKeys: true } && !HasHigherSendKeys(encryptionLevel)
                ? Math.Min(buffer.Length, MinimumDatagramSize)
                : 0;
            written = WriteSingleFramePacket(now, encryptionLevel, buffer, written, (ref SpanWriter w) =>
            {
                ConnectionCloseFrame.Encode(ref w, application, code, application ? 0 : _closeFrameType, reason, Math.Min(w.Remaining, MaxCloseFrameLength));
            }, padTo);

            // Once 1-RTT keys exist the peer can read that one; lower spaces only help a peer still in the handshake.
            if (encryptionLevel == EncryptionLevel.OneRtt || (encryptionLevel == EncryptionLevel.Handshake && IsHandshakeComplete))
            {
                break;
            }
        }

        _path.BytesSent += written;
        return written;
    }

    /// <summary>Whether a later space than <paramref name="level"/> will also get a close packet in this datagram.</summary>
    private bool HasHigherSendKeys(EncryptionLevel level)
    {
        for (int next = (int)level + 1; next < 3; next++)
        {
            if (CanSendIn((EncryptionLevel)next))
            {
                return true;
            }
        }

        return false;
    }

    private int WritePathResponseDatagram(Instant now, Span<byte> buffer, PendingPathResponse response)
    {
        ulong data = response.Data;
        if (_oneRtt is null)
        {
            return 0;
        }

        // Padded to 1200 bytes to prove the path carries full-size datagrams (RFC 9000 §8.2.2), but never beyond
        // three times what that unvalidated address sent us.
        int size = (int)Math.Min(Math.Min(buffer.Length, MinimumDatagramSize), response.Budget);
        return WriteSingleFramePacket(now, EncryptionLevel.OneRtt, buffer[..size], 0, (ref SpanWriter w) => new PathResponseFrame(data).Encode(ref w), size);
    }

    private delegate void FrameWriter(ref SpanWriter writer);

    private int WriteSingleFramePacket(Instant now, EncryptionLevel level, Span<byte> buffer, int start, FrameWriter writeFrame, int padTo = 0, ulong pingMarker = 0)
    {
        PacketSpace space = _spaces[(int)level];
        ulong packetNumber = space.NextPacketNumber++;
        int packetNumberLength = PacketNumberCoding.EncodedLength(packetNumber, _loss.LargestAcked(level));
        int lengthOffset = -1;
        int packetNumberOffset;
        int headerLength;
        Span<byte> target = buffer[start..];
        if (level == EncryptionLevel.OneRtt)
        {
            headerLength = PacketWriter.WriteShortHeader(target, false, _oneRtt!.SendPhase, _remoteConnectionId.Span, packetNumber, packetNumberLength, out packetNumberOffset);
        }
        else
        {
            PacketType type = level == EncryptionLevel.Initial ? PacketType.Initial : PacketType.Handshake;
            ReadOnlySpan<byte> token = level == EncryptionLevel.Initial && IsClient ? _retryToken : [];
            headerLength = PacketWriter.WriteLongHeader(target, type, _remoteConnectionId.Span, _localIds[0].Id.Span, token, packetNumber, packetNumberLength, out lengthOffset, out packetNumberOffset);
        }

        var writer = new SpanWriter(buffer[(start + headerLength)..^TagLength]);
        writeFrame(ref writer);
        SentPacket record = _loss.RentPacket();
        if (pingMarker != 0)
        {
            record.Frames.Add(new SentFrame(SentFrameKind.Ping, Value: pingMarker));
            record.AckEliciting = true;
        }

        var open = new OpenPacket(level, packetNumber, packetNumberLength, start, lengthOffset < 0 ? -1 : start + lengthOffset, start + packetNumberOffset, start + headerLength, start + headerLength + writer.Position, buffer.Length - TagLength, record);
        return FinishPacket(now, buffer, ref open, padTo);
    }

    private static void EncodeControlFrame(ref SpanWriter writer, in ControlFrame control)
    {
        switch (control.Kind)
        {
            case ControlFrameKind.MaxData:
                new MaxDataFrame(control.Value).Encode(ref writer);
                break;
            case ControlFrameKind.MaxStreamData:
                new MaxStreamDataFrame(control.StreamId, control.Value).Encode(ref writer);
                break;
            case ControlFrameKind.MaxStreamsBidi:
            case ControlFrameKind.MaxStreamsUni:
                new MaxStreamsFrame(control.Kind == ControlFrameKind.MaxStreamsBidi, control.Value).Encode(ref writer);
                break;
            case ControlFrameKind.DataBlocked:
                new DataBlockedFrame(control.Value).Encode(ref writer);
                break;
            case ControlFrameKind.StreamDataBlocked:
                new StreamDataBlockedFrame(control.StreamId, control.Value).Encode(ref writer);
                break;
            case ControlFrameKind.StreamsBlockedBidi:
            case ControlFrameKind.StreamsBlockedUni:
                new StreamsBlockedFrame(control.Kind == ControlFrameKind.StreamsBlockedBidi, control.Value).Encode(ref writer);
                break;
            case ControlFrameKind.ResetStream:
                new ResetStreamFrame(control.StreamId, control.Value, control.FinalSize).Encode(ref writer);
                break;
            case ControlFrameKind.StopSending:
                new StopSendingFrame(control.StreamId, control.Value).Encode(ref writer);
                break;
        }
    }

    private struct OpenPacket(EncryptionLevel level, ulong packetNumber, int packetNumberLength, int start, int lengthOffset, int packetNumberOffset, int payloadStart, int payloadEnd, int payloadLimit, SentPacket record)
    {
        public readonly EncryptionLevel Level = level;
        public readonly ulong PacketNumber = packetNumber;
        public readonly int PacketNumberLength = packetNumberLength;
        public readonly int Start = start;
        public readonly int LengthOffset = lengthOffset;
        public readonly int PacketNumberOffset = packetNumberOffset;
        public readonly int PayloadStart = payloadStart;
        public readonly int PayloadEnd = payloadEnd;
        public readonly int PayloadLimit = payloadLimit;
        public readonly SentPacket? Record = record;

        public readonly bool IsOpen => Record is not null;

        /// <summary>Where the datagram would end if this packet were sealed now (with the padding header protection needs).</summary>
        public readonly int End => Math.Max(PayloadEnd, PayloadStart + Math.Max(0, 4 - PacketNumberLength)) + TagLength;
    }
}
