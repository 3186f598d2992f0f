using Connet.Quic.Core;
using Connet.Quic.Core.Recovery;
using static Connet.Quic.Tests.Recovery.RecoveryTestHelpers;

namespace Connet.Quic.Tests.Recovery;

public class LossDetectionTests
{
    private readonly RttEstimator rtt = new(Span(333));
    private readonly NewRenoCongestionController congestion = new();
    private readonly LossDetection detection;
    private readonly List<SentPacket> acked = [];
    private readonly List<SentPacket> lost = [];

    public LossDetectionTests() => detection = new LossDetection(rtt, congestion);

    private static ulong[] Numbers(List<SentPacket> packets) => packets.Select(packet => packet.PacketNumber).ToArray();

    /// <summary>A server past the handshake: address validated, handshake confirmed, 1-RTT space.</summary>
    private void Confirm()
    {
        detection.SetPeerAddressValidated();
        detection.SetHandshakeConfirmed();
    }

    private void Send(ulong number, Instant time, EncryptionLevel level = EncryptionLevel.OneRtt, bool ackEliciting = true)
    {
        var packet = detection.RentPacket();
        packet.PacketNumber = number;
        packet.Level = level;
        packet.TimeSent = time;
        packet.Size = 1200;
        packet.AckEliciting = ackEliciting;
        packet.InFlight = ackEliciting;
        detection.OnPacketSent(packet);
    }

    private bool Ack(Instant now, EncryptionLevel level = EncryptionLevel.OneRtt, params PacketRange[] ranges) =>
        detection.OnAckReceived(level, ranges, TimeSpan.Zero, now, handshakeConfirmed: true, maxAckDelay: Span(25), acked, lost);

    [Fact]
    public void Ack_removes_packets_takes_an_rtt_sample_and_frees_the_window()
    {
        Confirm();
        Send(0, Ms(0));
        Send(1, Ms(10));
        Assert.Equal(2400, detection.BytesInFlight);

        Assert.True(Ack(Ms(110), ranges: new PacketRange(0, 1)));

        Assert.Equal(new ulong[] { 0, 1 }, Numbers(acked).Order().ToArray());
        Assert.Empty(lost);
        Assert.Equal(Span(100), rtt.LatestRtt); // from the largest newly acknowledged, sent at 10 ms
        Assert.Equal(1UL, detection.LargestAcked(EncryptionLevel.OneRtt));
        Assert.Equal(0, detection.BytesInFlight);
        Assert.Equal(14400, congestion.CongestionWindow);
        Assert.Equal(Instant.Never, detection.LossDetectionDeadline);
    }

    [Fact]
    public void Duplicate_ack_changes_nothing()
    {
        Confirm();
        Send(0, Ms(0));
        Assert.True(Ack(Ms(100), ranges: new PacketRange(0, 0)));
        acked.Clear();

        Assert.True(Ack(Ms(300), ranges: new PacketRange(0, 0)));

        Assert.Empty(acked);
        Assert.Equal(Span(100), rtt.LatestRtt);
    }

    [Fact]
    public void No_rtt_sample_when_the_largest_was_acknowledged_before()
    {
        Confirm();
        Send(0, Ms(0));
        Send(1, Ms(1));
        Assert.True(Ack(Ms(100), ranges: new PacketRange(1, 1)));

        Assert.True(Ack(Ms(500), ranges: new PacketRange(0, 1)));

        Assert.Equal(new ulong[] { 1, 0 }, Numbers(acked));
        Assert.Equal(Span(99), rtt.LatestRtt);
    }

    [Fact]
    public void Ack_of_a_packet_never_sent_is_rejected_without_side_effects()
    {
        Confirm();
        Send(0, Ms(0));
        Send(1, Ms(1));
        Send(2, Ms(2));

        Assert.False(Ack(Ms(50), ranges: new PacketRange(0, 5)));
        Assert.False(Ack(Ms(50), EncryptionLevel.Handshake, new PacketRange(0, 0)));

        Assert.Empty(acked);
        Assert.Null(detection.LargestAcked(EncryptionLevel.OneRtt));
        Assert.Equal(3600, detection.BytesInFlight);
        Assert.False(rtt.HasSample);
    }

    [Fact]
    public void Ack_covering_a_skipped_packet_number_is_rejected()
    {
        Confirm();
        Send(0, Ms(0));
        Send(1, Ms(1));
        Send(3, Ms(2));

        Assert.False(Ack(Ms(50), ranges: new PacketRange(2, 3)));
        Assert.True(Ack(Ms(50), ranges: [new PacketRange(3, 3), new PacketRange(0, 1)]));
        Assert.Equal(3, acked.Count);
    }

    [Fact]
    public void Malformed_or_huge_ranges_are_rejected()
    {
        Confirm();
        Send(0, Ms(0));

        Assert.False(Ack(Ms(10), ranges: new PacketRange(1, 0)));
        Assert.False(Ack(Ms(10), ranges: new PacketRange(0, (1UL << 62) - 1)));
        Assert.Empty(acked);
        Assert.True(Ack(Ms(10), ranges: new PacketRange(0, 0)));
    }

    [Fact]
    public void Handshake_space_acks_do_not_override_the_peer_max_ack_delay()
    {
        detection.SetPeerAddressValidated();
        detection.PeerMaxAckDelay = Span(40);
        Send(0, Ms(0), EncryptionLevel.Initial);

        Assert.True(detection.OnAckReceived(EncryptionLevel.Initial, [new PacketRange(0, 0)], Span(30), Ms(100), false, TimeSpan.Zero, acked, lost));
        Send(1, Ms(200), EncryptionLevel.Initial);
        Assert.True(detection.OnAckReceived(EncryptionLevel.Initial, [new PacketRange(0, 1)], Span(30), Ms(340), false, TimeSpan.Zero, acked, lost));

        Assert.Equal(Span(40), detection.PeerMaxAckDelay);

        // Initial ACK delays are ignored: the second sample counts as the full 140 ms, not 110.
        Assert.Equal(Span(105), rtt.SmoothedRtt); // (7 * 100 + 140) / 8
        Assert.Equal(Span(105 + (4 * 47.5) + 40), detection.ProbeTimeout); // rttvar = 3/4 * 50 + 1/4 * 40
    }

    [Fact]
    public void Packet_threshold_declares_a_packet_three_behind_the_largest_acked_lost()
    {
        Confirm();
        for (ulong number = 0; number <= 4; number++)
        {
            Send(number, Ms(number));
        }

        Assert.True(Ack(Ms(50), ranges: new PacketRange(3, 3)));
        Assert.Equal(new ulong[] { 0 }, Numbers(lost));

        Assert.True(Ack(Ms(51), ranges: new PacketRange(3, 4)));
        Assert.Equal(new ulong[] { 0, 1 }, Numbers(lost));

        // Packet 2 is within the reordering threshold; it waits for the time threshold.
        Assert.Equal(new ulong[] { 2 }, detection.InFlight(EncryptionLevel.OneRtt).Select(packet => packet.PacketNumber).ToArray());
        Assert.NotEqual(Instant.Never, detection.LossDetectionDeadline);
    }

    [Fact]
    public void Time_threshold_arms_the_timer_and_its_firing_declares_the_loss()
    {
        Confirm();
        Send(0, Ms(0));
        Send(1, Ms(10));

        Assert.True(Ack(Ms(110), ranges: new PacketRange(1, 1)));

        // latest = smoothed = 100 ms: loss delay 9/8 * 100 = 112.5 ms after packet 0 was sent.
        Assert.Empty(lost);
        Assert.Equal(Ms(112.5), detection.LossDetectionDeadline);

        detection.OnLossDetectionTimeout(Ms(112), lost, out int early, out _);
        Assert.Equal(0, early);
        Assert.Empty(lost);

        detection.OnLossDetectionTimeout(Ms(112.5), lost, out int probes, out var space);
        Assert.Equal(0, probes);
        Assert.Equal(EncryptionLevel.OneRtt, space);
        Assert.Equal(new ulong[] { 0 }, Numbers(lost));
        Assert.Equal(0, detection.PtoCount);
        Assert.Equal(0, detection.BytesInFlight);
        Assert.Equal(Instant.Never, detection.LossDetectionDeadline);
        Assert.Equal(6600, congestion.CongestionWindow); // 13200 after the ack, halved by the loss
    }

    [Fact]
    public void Probe_timeout_doubles_per_firing_and_resets_on_ack()
    {
        Confirm();
        Send(0, Ms(0));

        // No sample yet: 333 + 4 * 166.5 + max_ack_delay 25.
        Assert.Equal(Ms(1024), detection.LossDetectionDeadline);

        detection.OnLossDetectionTimeout(Ms(1024), lost, out int probes, out var space);
        Assert.Equal(2, probes);
        Assert.Equal(EncryptionLevel.OneRtt, space);
        Assert.Equal(1, detection.PtoCount);
        Assert.Equal(Ms(2048), detection.LossDetectionDeadline);

        detection.OnLossDetectionTimeout(Ms(2048), lost, out probes, out _);
        Assert.Equal(2, probes);
        Assert.Equal(2, detection.PtoCount);
        Assert.Equal(Ms(4096), detection.LossDetectionDeadline);
        Assert.Empty(lost);

        Send(1, Ms(4096));
        Assert.True(Ack(Ms(4196), ranges: new PacketRange(1, 1)));
        Assert.Equal(0, detection.PtoCount);
        Assert.Equal(new ulong[] { 0 }, Numbers(lost)); // sent long before the time threshold

        // srtt 100, rttvar 50: 100 + 200 + 25 after the send.
        Send(2, Ms(5000));
        Assert.Equal(Ms(5325), detection.LossDetectionDeadline);
    }

    [Fact]
    public void Probe_timeout_picks_the_earliest_space_and_skips_application_data_until_confirmed()
    {
        detection.SetPeerAddressValidated();
        Send(0, Ms(0), EncryptionLevel.OneRtt);
        Send(0, Ms(10), EncryptionLevel.Handshake);

        Assert.Equal(Ms(10 + 999), detection.LossDetectionDeadline);
        detection.OnLossDetectionTimeout(Ms(1009), lost, out int probes, out var space);
        Assert.Equal(2, probes);
        Assert.Equal(EncryptionLevel.Handshake, space);
    }

    [Fact]
    public void Client_without_handshake_keys_arms_an_anti_deadlock_timer_in_initial()
    {
        // A client: the server's address validation of us is unknown.
        Send(0, Ms(0), EncryptionLevel.Initial);
        Assert.True(Ack(Ms(100), EncryptionLevel.Initial, new PacketRange(0, 0)));
        Assert.Equal(0, detection.BytesInFlight);

        // Nothing in flight, but the server may be blocked by its amplification limit: 100 + (100 + 4 * 50).
        Assert.Equal(Ms(400), detection.LossDetectionDeadline);
        detection.OnLossDetectionTimeout(Ms(400), lost, out int probes, out var space);
        Assert.Equal(1, probes);
        Assert.Equal(EncryptionLevel.Initial, space);
        Assert.Equal(1, detection.PtoCount);
        Assert.Equal(Ms(1000), detection.LossDetectionDeadline);

        detection.SetHasHandshakeKeys();
        detection.OnLossDetectionTimeout(Ms(1000), lost, out probes, out space);
        Assert.Equal(1, probes);
        Assert.Equal(EncryptionLevel.Handshake, space);
        Assert.Equal(2, detection.PtoCount);
    }

    [Fact]
    public void Handshake_ack_validates_the_client_and_disarms_the_anti_deadlock_timer()
    {
        detection.SetHasHandshakeKeys();
        Send(0, Ms(0), EncryptionLevel.Handshake);

        Assert.True(Ack(Ms(100), EncryptionLevel.Handshake, new PacketRange(0, 0)));

        Assert.True(detection.IsPeerAddressValidated);
        Assert.Equal(Instant.Never, detection.LossDetectionDeadline);
    }

    [Fact]
    public void Amplification_blocked_server_disarms_the_timer()
    {
        detection.SetPeerAddressValidated();
        Send(0, Ms(0), EncryptionLevel.Initial);
        Assert.Equal(Ms(999), detection.LossDetectionDeadline);

        detection.SetServerAmplificationBlocked(true);
        Assert.Equal(Instant.Never, detection.LossDetectionDeadline);

        detection.SetServerAmplificationBlocked(false);
        Assert.Equal(Ms(999), detection.LossDetectionDeadline);
    }

    [Fact]
    public void Discarding_a_space_removes_its_bytes_without_a_congestion_signal()
    {
        detection.SetPeerAddressValidated();
        Send(0, Ms(0), EncryptionLevel.Initial);
        Send(1, Ms(1), EncryptionLevel.Initial);
        Send(0, Ms(2), EncryptionLevel.Handshake);
        var discarded = new List<SentPacket>();

        detection.DiscardSpace(EncryptionLevel.Initial, discarded);

        Assert.Equal(new ulong[] { 0, 1 }, Numbers(discarded));
        Assert.Equal(1200, detection.BytesInFlight);
        Assert.Equal(12000, congestion.CongestionWindow);
        Assert.Empty(detection.InFlight(EncryptionLevel.Initial));
        Assert.Equal(Ms(2 + 999), detection.LossDetectionDeadline);
    }

    [Fact]
    public void Losses_spanning_the_persistent_congestion_period_collapse_the_window()
    {
        Confirm();
        Send(0, Ms(0));
        Assert.True(Ack(Ms(100), ranges: new PacketRange(0, 0)));
        Send(1, Ms(200));
        Send(2, Ms(700));
        Send(3, Ms(1300));
        Send(4, Ms(1400));

        // srtt 100, rttvar 37.5 after the second sample: period = 3 * (100 + 150 + 25) = 825 ms < 1300 - 200.
        Assert.True(Ack(Ms(1500), ranges: new PacketRange(4, 4)));

        Assert.Equal(new ulong[] { 1, 2, 3 }, Numbers(lost));

        // Halved to 6600, collapsed to the 2400 minimum; then (A.7 handles losses first) the ack of packet 4, no longer
        // inside a recovery period, grows it by one datagram in slow start.
        Assert.Equal(6600, congestion.SlowStartThreshold);
        Assert.Equal(3600, congestion.CongestionWindow);
    }

    [Fact]
    public void An_acknowledged_packet_between_the_losses_prevents_persistent_congestion()
    {
        Confirm();
        Send(0, Ms(0));
        Assert.True(Ack(Ms(100), ranges: new PacketRange(0, 0)));
        Send(1, Ms(200));
        Send(2, Ms(700));
        Send(3, Ms(1300));
        Send(4, Ms(1400));

        Assert.True(Ack(Ms(1500), ranges: [new PacketRange(4, 4), new PacketRange(2, 2)]));

        Assert.Equal(new ulong[] { 1, 3 }, Numbers(lost));
        Assert.Equal(6600, congestion.CongestionWindow); // 13200 halved once
    }

    [Fact]
    public void Losses_before_the_first_rtt_sample_never_establish_persistent_congestion()
    {
        Confirm();
        Send(0, Ms(0));
        Send(1, Ms(2000));
        Send(2, Ms(4000));
        Send(3, Ms(4001));
        Send(4, Ms(4002));

        Assert.True(Ack(Ms(4100), ranges: new PacketRange(4, 4)));

        // The sample (98 ms) comes from this very ACK, so every lost packet predates it; 2 is still within 9/8 RTT.
        Assert.Equal(new ulong[] { 0, 1 }, Numbers(lost));
        Assert.Equal(6000, congestion.CongestionWindow);
    }

    [Fact]
    public void Released_packets_are_reused()
    {
        var first = detection.RentPacket();
        first.Frames.Add(new SentFrame(SentFrameKind.Ping));
        detection.Release(first);

        var second = detection.RentPacket();

        Assert.Same(first, second);
        Assert.Empty(second.Frames);
    }

    [Fact]
    public void Steady_state_send_and_ack_does_not_allocate()
    {
        Confirm();
        ulong number = 0;
        var ranges = new PacketRange[1];
        void RoundTrip(int count)
        {
            for (int i = 0; i < count; i++)
            {
                var time = Ms(number * 10);
                Send(number, time);
                ranges[0] = new PacketRange(number, number);
                detection.OnAckReceived(EncryptionLevel.OneRtt, ranges, TimeSpan.Zero, time + Span(5), true, Span(25), acked, lost);
                foreach (var packet in acked)
                {
                    detection.Release(packet);
                }

                acked.Clear();
                number++;
            }
        }

        RoundTrip(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrip(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
