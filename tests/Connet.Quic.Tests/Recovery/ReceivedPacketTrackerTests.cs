using Connet.Quic.Core;
using Connet.Quic.Core.Recovery;
using static Connet.Quic.Tests.Recovery.RecoveryTestHelpers;

namespace Connet.Quic.Tests.Recovery;

public class ReceivedPacketTrackerTests
{
    private static void Receive(ReceivedPacketTracker tracker, Instant now, params ulong[] packetNumbers)
    {
        foreach (var number in packetNumbers)
        {
            tracker.OnPacketReceived(number, ackEliciting: true, now, immediateAckSpace: false);
        }
    }

    [Fact]
    public void Detects_duplicates()
    {
        var tracker = new ReceivedPacketTracker();
        Receive(tracker, Ms(0), 1, 3);

        Assert.True(tracker.IsDuplicate(1));
        Assert.True(tracker.IsDuplicate(3));
        Assert.False(tracker.IsDuplicate(0));
        Assert.False(tracker.IsDuplicate(2));
        Assert.False(tracker.IsDuplicate(4));
    }

    [Fact]
    public void Coalesces_ranges_and_reports_them_largest_first()
    {
        var tracker = new ReceivedPacketTracker();
        Receive(tracker, Ms(0), 1, 2, 3, 5, 6);

        Assert.Equal(new[] { new PacketRange(5, 6), new PacketRange(1, 3) }, tracker.RangesDescending.ToArray());
        Assert.Equal(6UL, tracker.LargestReceived);

        Receive(tracker, Ms(1), 4);
        Assert.Equal(new[] { new PacketRange(1, 6) }, tracker.RangesDescending.ToArray());

        Receive(tracker, Ms(2), 9, 0, 8);
        Assert.Equal(new[] { new PacketRange(8, 9), new PacketRange(0, 6) }, tracker.RangesDescending.ToArray());
    }

    [Fact]
    public void First_ack_eliciting_packet_may_wait_max_ack_delay()
    {
        var tracker = new ReceivedPacketTracker();
        tracker.SetMaxAckDelay(Span(20));

        tracker.OnPacketReceived(0, ackEliciting: true, Ms(100), immediateAckSpace: false);

        Assert.True(tracker.AckPending);
        Assert.Equal(Ms(120), tracker.AckDeadline);
    }

    [Fact]
    public void Second_ack_eliciting_packet_is_acknowledged_immediately()
    {
        var tracker = new ReceivedPacketTracker();
        tracker.OnPacketReceived(0, ackEliciting: true, Ms(100), immediateAckSpace: false);

        tracker.OnPacketReceived(1, ackEliciting: true, Ms(105), immediateAckSpace: false);

        Assert.Equal(Ms(105), tracker.AckDeadline);
    }

    [Fact]
    public void A_gap_triggers_an_immediate_ack()
    {
        var tracker = new ReceivedPacketTracker();
        tracker.OnPacketReceived(0, ackEliciting: true, Ms(100), immediateAckSpace: false);
        tracker.OnAckSent(Ms(100));

        tracker.OnPacketReceived(2, ackEliciting: true, Ms(110), immediateAckSpace: false);

        Assert.Equal(Ms(110), tracker.AckDeadline);
    }

    [Fact]
    public void A_reordered_packet_triggers_an_immediate_ack()
    {
        var tracker = new ReceivedPacketTracker();
        Receive(tracker, Ms(100), 0, 2);
        tracker.OnAckSent(Ms(100));

        tracker.OnPacketReceived(1, ackEliciting: true, Ms(110), immediateAckSpace: false);

        Assert.Equal(Ms(110), tracker.AckDeadline);
    }

    [Fact]
    public void In_order_packet_after_an_ack_waits_again()
    {
        var tracker = new ReceivedPacketTracker();
        Receive(tracker, Ms(100), 0, 1);
        tracker.OnAckSent(Ms(100));
        Assert.False(tracker.AckPending);
        Assert.Equal(Instant.Never, tracker.AckDeadline);

        tracker.OnPacketReceived(2, ackEliciting: true, Ms(110), immediateAckSpace: false);

        Assert.Equal(Ms(135), tracker.AckDeadline);
    }

    [Fact]
    public void Non_ack_eliciting_packets_never_require_an_ack()
    {
        var tracker = new ReceivedPacketTracker();

        tracker.OnPacketReceived(0, ackEliciting: false, Ms(0), immediateAckSpace: true);
        tracker.OnPacketReceived(5, ackEliciting: false, Ms(1), immediateAckSpace: false);

        Assert.False(tracker.AckPending);
        Assert.Equal(Instant.Never, tracker.AckDeadline);
        Assert.True(tracker.HasUnsentAcknowledgements);
        Assert.Equal(2, tracker.RangesDescending.Length);
    }

    [Fact]
    public void Handshake_spaces_acknowledge_immediately()
    {
        var tracker = new ReceivedPacketTracker();

        tracker.OnPacketReceived(0, ackEliciting: true, Ms(7), immediateAckSpace: true);

        Assert.Equal(Ms(7), tracker.AckDeadline);
    }

    [Fact]
    public void Ack_delay_is_measured_from_the_largest_packet()
    {
        var tracker = new ReceivedPacketTracker();
        Receive(tracker, Ms(10), 5);
        Receive(tracker, Ms(12), 3);

        Assert.Equal(Span(4), tracker.AckDelay(Ms(14)));
    }

    [Fact]
    public void Ack_sent_keeps_the_ranges()
    {
        var tracker = new ReceivedPacketTracker();
        Receive(tracker, Ms(0), 0, 1, 2);

        tracker.OnAckSent(Ms(1));

        Assert.Equal(new[] { new PacketRange(0, 2) }, tracker.RangesDescending.ToArray());
        Assert.False(tracker.HasUnsentAcknowledgements);
    }

    [Fact]
    public void Range_count_is_bounded_by_dropping_the_oldest()
    {
        var tracker = new ReceivedPacketTracker(maxRanges: 4);
        Receive(tracker, Ms(0), 0, 2, 4, 6, 8);

        Assert.Equal(
            new[] { new PacketRange(8, 8), new PacketRange(6, 6), new PacketRange(4, 4), new PacketRange(2, 2) },
            tracker.RangesDescending.ToArray());

        // 0 is below the tracked window: treated as a duplicate. 1 and 3 were never received.
        Assert.True(tracker.IsDuplicate(0));
        Assert.False(tracker.IsDuplicate(1));
        Assert.False(tracker.IsDuplicate(3));

        for (ulong number = 10; number < 200; number += 2)
        {
            Receive(tracker, Ms(1), number);
        }

        Assert.Equal(4, tracker.RangesDescending.Length);
        Assert.Equal(new PacketRange(198, 198), tracker.RangesDescending[0]);
        Assert.True(tracker.IsDuplicate(100));
    }

    [Fact]
    public void Acknowledged_ack_prunes_ranges_up_to_its_largest()
    {
        var tracker = new ReceivedPacketTracker();
        Receive(tracker, Ms(0), 0, 1, 2, 3, 4, 5, 7, 8, 9);

        tracker.OnAckAcknowledged(4);
        Assert.Equal(new[] { new PacketRange(7, 9), new PacketRange(5, 5) }, tracker.RangesDescending.ToArray());

        tracker.OnAckAcknowledged(8);
        Assert.Equal(new[] { new PacketRange(9, 9) }, tracker.RangesDescending.ToArray());

        // Pruned numbers, received or not, are no longer accepted.
        Assert.True(tracker.IsDuplicate(6));
        Assert.True(tracker.IsDuplicate(3));
        Assert.False(tracker.IsDuplicate(10));

        // An older ACK being acknowledged late changes nothing.
        tracker.OnAckAcknowledged(2);
        Assert.Equal(new[] { new PacketRange(9, 9) }, tracker.RangesDescending.ToArray());

        tracker.OnAckAcknowledged(9);
        Assert.True(tracker.RangesDescending.IsEmpty);
        Assert.Equal(9UL, tracker.LargestReceived);
    }
}
