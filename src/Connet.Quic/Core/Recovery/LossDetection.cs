using System.Runtime.InteropServices;

namespace Connet.Quic.Core.Recovery;

/// <summary>
/// Loss detection, RFC 9002 §6 and Appendix A: tracks the packets sent in each packet number space, processes ACK
/// frames, declares packets lost by packet or time threshold, and runs the probe timeout.
/// </summary>
/// <remarks>
/// Every packet sent must be handed to <see cref="OnPacketSent"/>, ACK-only ones included (they carry the ranges the
/// receiver prunes on). The instance then owns it until it comes back in an acked, lost or discarded list; the caller
/// acts on its frames and returns it with <see cref="Release"/>. This class drives the congestion controller: callers
/// do not report sends, acknowledgements or losses to it themselves.
/// A client starts with the peer's address unvalidated (the anti-deadlock rules apply); a server must call
/// <see cref="SetPeerAddressValidated"/> at once, since clients validate server addresses implicitly.
/// </remarks>
internal sealed class LossDetection
{
    private const int SpaceCount = 3;

    // Enough to cover a full window of packets without allocating; beyond it released packets go to the GC.
    private const int MaxPooledPackets = 1024;

    private readonly RttEstimator rtt;
    private readonly ICongestionController congestion;
    private readonly SentPacketQueue[] queues = [new(), new(), new()];
    private readonly ulong?[] largestAcked = new ulong?[SpaceCount];
    private readonly Instant[] lossTime = [Instant.Never, Instant.Never, Instant.Never];
    private readonly Instant[] timeOfLastAckEliciting = new Instant[SpaceCount];
    private readonly int[] ackElicitingInFlight = new int[SpaceCount];
    private readonly int[] nonAckElicitingSinceAckEliciting = new int[SpaceCount];
    private readonly Stack<SentPacket> pool = new();

    private bool peerAddressValidated;
    private bool handshakeConfirmed;
    private bool hasHandshakeKeys;
    private bool amplificationBlocked;

    // Persistent congestion only counts packets sent after the first RTT sample (§7.6.2).
    private Instant? firstRttSampleTime;

    // The anti-deadlock timer runs from "now", and some inputs (key discard, flags) carry no time: use the latest seen.
    private Instant latestNow;

    public LossDetection(RttEstimator rtt, ICongestionController congestion)
    {
        ArgumentNullException.ThrowIfNull(rtt);
        ArgumentNullException.ThrowIfNull(congestion);
        this.rtt = rtt;
        this.congestion = congestion;
    }

    public RttEstimator Rtt => rtt;

    public ICongestionController Congestion => congestion;

    public long BytesInFlight => congestion.BytesInFlight;

    /// <summary>Times the PTO fired without an acknowledgement since; the PTO period doubles with each.</summary>
    public int PtoCount { get; private set; }

    /// <summary>When <see cref="OnLossDetectionTimeout"/> is due; <see cref="Instant.Never"/> when unarmed.</summary>
    public Instant LossDetectionDeadline { get; private set; } = Instant.Never;

    /// <summary>
    /// The peer's max_ack_delay transport parameter (default 25 ms), used for the application space PTO and the
    /// persistent congestion period. Set it when the peer's transport parameters arrive; a 1-RTT
    /// <see cref="OnAckReceived"/> also updates it.
    /// </summary>
    public TimeSpan PeerMaxAckDelay { get; set; } = RecoveryConstants.DefaultMaxAckDelay;

    /// <summary>
    /// The unbacked-off PTO including the peer's max_ack_delay: the unit of the closing and draining periods and the
    /// idle timeout floor (RFC 9000 §10.1, §10.2).
    /// </summary>
    public TimeSpan ProbeTimeout => rtt.ProbeTimeout(PeerMaxAckDelay);

    public bool IsPeerAddressValidated => peerAddressValidated;

    public ulong? LargestAcked(EncryptionLevel space) => largestAcked[Index(space)];

    /// <summary>The largest packet number handed to <see cref="OnPacketSent"/> in the space.</summary>
    public ulong? LargestSent(EncryptionLevel space) => queues[Index(space)].LargestSent;

    /// <summary>Ack-eliciting packets in flight in the space.</summary>
    public int AckElicitingInFlight(EncryptionLevel space) => ackElicitingInFlight[Index(space)];

    /// <summary>
    /// Packets sent in the space since the last ack-eliciting one. A peer never acknowledges ACK-only packets by
    /// themselves, so a sender of nothing but ACKs should bundle a PING now and then (RFC 9000 §13.2.4) to let them go.
    /// </summary>
    public int NonAckElicitingSentSinceAckEliciting(EncryptionLevel space) => nonAckElicitingSinceAckEliciting[Index(space)];

    /// <summary>A pooled, reset packet to fill in and pass to <see cref="OnPacketSent"/>.</summary>
    public SentPacket RentPacket() => pool.TryPop(out var packet) ? packet : new SentPacket();

    /// <summary>Returns a packet once its frames were handled.</summary>
    public void Release(SentPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        packet.Reset();
        if (pool.Count < MaxPooledPackets)
        {
            pool.Push(packet);
        }
    }

    /// <summary>
    /// Records a sent packet (A.5) in the space <see cref="SentPacket.Level"/> gives. Packet numbers must increase per
    /// space; a skipped number is treated as never sent, so an ACK covering it is rejected.
    /// </summary>
    public void OnPacketSent(SentPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        int space = Index(packet.Level);
        Observe(packet.TimeSent);
        queues[space].Add(packet);
        if (packet.AckEliciting)
        {
            nonAckElicitingSinceAckEliciting[space] = 0;
        }
        else
        {
            nonAckElicitingSinceAckEliciting[space]++;
        }

        if (!packet.InFlight)
        {
            return;
        }

        if (packet.AckEliciting)
        {
            timeOfLastAckEliciting[space] = packet.TimeSent;
            ackElicitingInFlight[space]++;
        }

        congestion.OnPacketSent(packet.TimeSent, packet.Size);
        SetLossDetectionTimer();
    }

    /// <summary>
    /// Processes one ACK frame (A.7). <paramref name="rangesDescending"/> must be disjoint and in descending order, as
    /// the frame decoder produces them. Returns false, changing nothing, when a range covers a packet number never
    /// sent in the space; the caller then closes with PROTOCOL_VIOLATION. Newly acknowledged and lost packets are
    /// appended to <paramref name="acked"/> and <paramref name="lost"/>. <paramref name="ackDelay"/> is the decoded
    /// ACK Delay (ignored for Initial); <paramref name="maxAckDelay"/> is the peer's max_ack_delay, taken from 1-RTT ACKs
    /// only.
    /// </summary>
    public bool OnAckReceived(
        EncryptionLevel space,
        ReadOnlySpan<PacketRange> rangesDescending,
        TimeSpan ackDelay,
        Instant now,
        bool handshakeConfirmed,
        TimeSpan maxAckDelay,
        List<SentPacket> acked,
        List<SentPacket> lost)
    {
        ArgumentNullException.ThrowIfNull(acked);
        ArgumentNullException.ThrowIfNull(lost);
        int index = Index(space);
        var queue = queues[index];
        if (!AcknowledgesOnlySentPackets(queue, rangesDescending))
        {
            return false;
        }

        if (rangesDescending.IsEmpty)
        {
            return true;
        }

        Observe(now);
        this.handshakeConfirmed |= handshakeConfirmed;

        // Callers may pass zero for the handshake spaces, whose ACKs are not delayed; only 1-RTT carries the real value.
        if (space == EncryptionLevel.OneRtt)
        {
            PeerMaxAckDelay = maxAckDelay;
        }

        // A.6: a client knows the server validated its address once the server acknowledges a Handshake packet.
        if (space == EncryptionLevel.Handshake)
        {
            peerAddressValidated = true;
        }

        ulong largestInFrame = rangesDescending[0].Largest;
        if (largestAcked[index] is not { } previousLargest || largestInFrame > previousLargest)
        {
            largestAcked[index] = largestInFrame;
        }

        int ackedStart = acked.Count;
        SentPacket? largestNewlyAcked = null;
        bool includesAckEliciting = false;
        foreach (var range in rangesDescending)
        {
            for (int position = queue.LowerBound(range.Smallest); position < queue.Count && queue.NumberAt(position) <= range.Largest; position++)
            {
                if (queue.PacketAt(position) is null)
                {
                    continue;
                }

                var packet = queue.RemoveAt(position);
                acked.Add(packet);
                OnLeftFlight(index, packet);
                includesAckEliciting |= packet.AckEliciting;
                if (largestNewlyAcked is null || packet.PacketNumber > largestNewlyAcked.PacketNumber)
                {
                    largestNewlyAcked = packet;
                }
            }
        }

        queue.TrimHead();
        if (largestNewlyAcked is null)
        {
            return true;
        }

        if (largestNewlyAcked.PacketNumber == largestInFrame && includesAckEliciting)
        {
            // Initial ACKs are never delayed on purpose (RFC 9000 §13.2.1), so their delay field is ignored (§5.3).
            var effectiveAckDelay = space == EncryptionLevel.Initial ? TimeSpan.Zero : ackDelay;
            rtt.Update(now - largestNewlyAcked.TimeSent, effectiveAckDelay, this.handshakeConfirmed, PeerMaxAckDelay);
            firstRttSampleTime ??= now;
        }

        DetectAndRemoveLostPackets(index, now, lost);
        foreach (var packet in CollectionsMarshal.AsSpan(acked)[ackedStart..])
        {
            if (packet.InFlight)
            {
                congestion.OnPacketAcked(packet, now, rtt);
            }
        }

        // A client that is unsure the server validated its address keeps backing off (A.7).
        if (peerAddressValidated)
        {
            PtoCount = 0;
        }

        SetLossDetectionTimer();
        return true;
    }

    /// <summary>
    /// The loss detection timer fired (A.9). Either declares time-threshold losses into <paramref name="lost"/>
    /// (<paramref name="probesToSend"/> = 0), or asks for <paramref name="probesToSend"/> ack-eliciting probe packets
    /// in <paramref name="probeSpace"/>: 2 on a PTO (new data, else retransmitted data, else PING), or 1 for a client's
    /// anti-deadlock probe (a padded Initial, or a Handshake packet once it has Handshake keys). Probes may exceed
    /// the congestion window. Does nothing before <see cref="LossDetectionDeadline"/>.
    /// </summary>
    public void OnLossDetectionTimeout(Instant now, List<SentPacket> lost, out int probesToSend, out EncryptionLevel probeSpace)
    {
        ArgumentNullException.ThrowIfNull(lost);
        Observe(now);
        probesToSend = 0;
        probeSpace = EncryptionLevel.Initial;
        if (now < LossDetectionDeadline || LossDetectionDeadline == Instant.Never)
        {
            return;
        }

        if (EarliestLossTime(out int lossSpace) != Instant.Never)
        {
            DetectAndRemoveLostPackets(lossSpace, now, lost);
            probeSpace = (EncryptionLevel)lossSpace;
            SetLossDetectionTimer();
            return;
        }

        if (TotalAckElicitingInFlight == 0)
        {
            probesToSend = 1;
            probeSpace = hasHandshakeKeys ? EncryptionLevel.Handshake : EncryptionLevel.Initial;
        }
        else
        {
            ProbeTimeoutAndSpace(out probeSpace);
            probesToSend = 2;
        }

        PtoCount++;
        SetLossDetectionTimer();
    }

    /// <summary>
    /// The space's keys were discarded (A.11): its packets leave bytes in flight without a loss signal and are moved
    /// to <paramref name="discarded"/> (the caller releases them); the PTO backoff restarts.
    /// </summary>
    public void DiscardSpace(EncryptionLevel space, List<SentPacket> discarded)
    {
        ArgumentNullException.ThrowIfNull(discarded);
        int index = Index(space);
        int start = discarded.Count;
        queues[index].Clear(discarded);
        foreach (var packet in CollectionsMarshal.AsSpan(discarded)[start..])
        {
            if (packet.InFlight)
            {
                congestion.OnPacketDiscarded(packet.Size);
            }
        }

        ackElicitingInFlight[index] = 0;
        nonAckElicitingSinceAckEliciting[index] = 0;
        timeOfLastAckEliciting[index] = default;
        lossTime[index] = Instant.Never;
        PtoCount = 0;
        SetLossDetectionTimer();
    }

    /// <summary>
    /// The peer's address is known valid: always for a server (call at creation), for a client once the handshake is
    /// confirmed or a Handshake ACK arrived (the latter is noticed here automatically).
    /// </summary>
    public void SetPeerAddressValidated()
    {
        peerAddressValidated = true;
        SetLossDetectionTimer();
    }

    public void SetHandshakeConfirmed()
    {
        handshakeConfirmed = true;
        peerAddressValidated = true;
        SetLossDetectionTimer();
    }

    public void SetHasHandshakeKeys()
    {
        hasHandshakeKeys = true;
        SetLossDetectionTimer();
    }

    /// <summary>
    /// A server at its anti-amplification limit cannot send, so its timer is unarmed (A.8). When a datagram unblocks it,
    /// call with false and, if <see cref="LossDetectionDeadline"/> has passed, call <see cref="OnLossDetectionTimeout"/>.
    /// </summary>
    public void SetServerAmplificationBlocked(bool blocked)
    {
        amplificationBlocked = blocked;
        SetLossDetectionTimer();
    }

    /// <summary>The space's tracked in-flight packets, oldest first, for PTO retransmission. Do not send while enumerating.</summary>
    public SentPacketQueue.InFlightPackets InFlight(EncryptionLevel space) => queues[Index(space)].InFlight();

    private int TotalAckElicitingInFlight => ackElicitingInFlight[0] + ackElicitingInFlight[1] + ackElicitingInFlight[2];

    private static int Index(EncryptionLevel space)
    {
        int index = (int)space;
        if ((uint)index >= SpaceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(space), space, "Not a packet number space.");
        }

        return index;
    }

    private static bool AcknowledgesOnlySentPackets(SentPacketQueue queue, ReadOnlySpan<PacketRange> rangesDescending)
    {
        foreach (var range in rangesDescending)
        {
            if (range.Smallest > range.Largest || queue.LargestSent is not { } largestSent || range.Largest > largestSent)
            {
                return false;
            }

            // Between head and tail every sent number has an entry, so a missing one was skipped, never sent.
            // Below the head nothing is known any more; such acknowledgements are of long-settled packets.
            if (queue.Count == 0)
            {
                continue;
            }

            ulong from = Math.Max(range.Smallest, queue.NumberAt(0));
            ulong to = Math.Min(range.Largest, queue.NumberAt(queue.Count - 1));
            if (from > to)
            {
                continue;
            }

            int entries = queue.LowerBound(to + 1) - queue.LowerBound(from);
            if ((ulong)entries != to - from + 1)
            {
                return false;
            }
        }

        return true;
    }

    private void Observe(Instant now) => latestNow = Instant.Max(latestNow, now);

    private void OnLeftFlight(int space, SentPacket packet)
    {
        if (packet.InFlight && packet.AckEliciting)
        {
            ackElicitingInFlight[space]--;
        }
    }

    /// <summary>A.10; the lost packets also reach the congestion controller, with the persistent congestion verdict.</summary>
    private void DetectAndRemoveLostPackets(int space, Instant now, List<SentPacket> lost)
    {
        lossTime[space] = Instant.Never;
        if (largestAcked[space] is not { } largest)
        {
            return;
        }

        var lossDelay = RecoveryConstants.Max(
            RecoveryConstants.TimeThreshold(RecoveryConstants.Max(rtt.LatestRtt, rtt.SmoothedRtt)),
            RecoveryConstants.Granularity);
        var lostSendTime = now - lossDelay;
        var queue = queues[space];
        int lostStart = lost.Count;
        for (int position = 0; position < queue.Count && queue.NumberAt(position) <= largest; position++)
        {
            if (queue.PacketAt(position) is not { } packet)
            {
                continue;
            }

            if (packet.TimeSent <= lostSendTime || largest >= packet.PacketNumber + RecoveryConstants.PacketThreshold)
            {
                queue.RemoveAt(position);
                lost.Add(packet);
                OnLeftFlight(space, packet);
            }
            else
            {
                lossTime[space] = Instant.Min(lossTime[space], packet.TimeSent + lossDelay);
            }
        }

        queue.TrimHead();
        if (lost.Count == lostStart)
        {
            return;
        }

        var newlyLost = CollectionsMarshal.AsSpan(lost)[lostStart..];
        congestion.OnPacketsLost(newlyLost, now, InPersistentCongestion(newlyLost));
    }

    /// <summary>
    /// §7.6: two ack-eliciting packets, both sent after the first RTT sample, lost more than the persistent congestion
    /// period apart with nothing between them acknowledged. Only runs of consecutive packet numbers within one
    /// detection are considered; a gap may hide an acknowledged packet, so it conservatively breaks the run.
    /// </summary>
    private bool InPersistentCongestion(ReadOnlySpan<SentPacket> newlyLostAscending)
    {
        if (firstRttSampleTime is not { } firstSample)
        {
            return false;
        }

        var period = rtt.ProbeTimeout(PeerMaxAckDelay) * RecoveryConstants.PersistentCongestionThreshold;
        Instant? runStart = null;
        ulong previousNumber = 0;
        bool first = true;
        foreach (var packet in newlyLostAscending)
        {
            if (!first && packet.PacketNumber != previousNumber + 1)
            {
                runStart = null;
            }

            first = false;
            previousNumber = packet.PacketNumber;
            if (!packet.AckEliciting || packet.TimeSent <= firstSample)
            {
                continue;
            }

            if (runStart is not { } start)
            {
                runStart = packet.TimeSent;
            }
            else if (packet.TimeSent - start > period)
            {
                return true;
            }
        }

        return false;
    }

    private Instant EarliestLossTime(out int space)
    {
        space = 0;
        var earliest = lossTime[0];
        for (int candidate = 1; candidate < SpaceCount; candidate++)
        {
            if (lossTime[candidate] < earliest)
            {
                earliest = lossTime[candidate];
                space = candidate;
            }
        }

        return earliest;
    }

    /// <summary>A.8 GetPtoTimeAndSpace.</summary>
    private Instant ProbeTimeoutAndSpace(out EncryptionLevel space)
    {
        int backoff = 1 << Math.Min(PtoCount, RecoveryConstants.MaxPtoBackoffExponent);
        var duration = rtt.ProbeTimeoutWithoutAckDelay * backoff;
        if (TotalAckElicitingInFlight == 0)
        {
            // Anti-deadlock: nothing to lose, but the client must keep the server able to send (§6.2.2.1).
            space = hasHandshakeKeys ? EncryptionLevel.Handshake : EncryptionLevel.Initial;
            return latestNow + duration;
        }

        var timeout = Instant.Never;
        space = EncryptionLevel.Initial;
        for (int candidate = 0; candidate < SpaceCount; candidate++)
        {
            if (ackElicitingInFlight[candidate] == 0)
            {
                continue;
            }

            if (candidate == (int)EncryptionLevel.OneRtt)
            {
                // Application data is not probed before the handshake is confirmed (§6.2.1).
                if (!handshakeConfirmed)
                {
                    return timeout;
                }

                duration += PeerMaxAckDelay * backoff;
            }

            var time = timeOfLastAckEliciting[candidate] + duration;
            if (time < timeout)
            {
                timeout = time;
                space = (EncryptionLevel)candidate;
            }
        }

        return timeout;
    }

    /// <summary>A.8 SetLossDetectionTimer.</summary>
    private void SetLossDetectionTimer()
    {
        var earliestLoss = EarliestLossTime(out _);
        if (earliestLoss != Instant.Never)
        {
            LossDetectionDeadline = earliestLoss;
            return;
        }

        if (amplificationBlocked || (TotalAckElicitingInFlight == 0 && peerAddressValidated))
        {
            LossDetectionDeadline = Instant.Never;
            return;
        }

        LossDetectionDeadline = ProbeTimeoutAndSpace(out _);
    }
}
