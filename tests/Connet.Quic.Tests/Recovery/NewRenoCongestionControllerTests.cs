using Connet.Quic.Core.Recovery;
using static Connet.Quic.Tests.Recovery.RecoveryTestHelpers;

namespace Connet.Quic.Tests.Recovery;

public class NewRenoCongestionControllerTests
{
    private readonly RttEstimator rtt = new(Span(333));

    [Theory]
    [InlineData(1200, 12000)]
    [InlineData(1472, 14720)]
    [InlineData(1500, 14720)]
    [InlineData(9000, 18000)]
    public void Initial_window_follows_section_7_2(int maxDatagramSize, long expected)
    {
        var controller = new NewRenoCongestionController(maxDatagramSize);

        Assert.Equal(expected, controller.CongestionWindow);
        Assert.Equal(2L * maxDatagramSize, controller.MinimumWindow);
    }

    [Fact]
    public void Bytes_in_flight_limit_sending()
    {
        var controller = new NewRenoCongestionController();
        for (int i = 0; i < 9; i++)
        {
            controller.OnPacketSent(Ms(0), 1200);
        }

        Assert.Equal(10800, controller.BytesInFlight);
        Assert.True(controller.CanSend(1200));
        Assert.False(controller.CanSend(1201));
    }

    [Fact]
    public void Slow_start_grows_by_the_acknowledged_bytes()
    {
        var controller = new NewRenoCongestionController();
        var first = Packet(0, Ms(0));
        var second = Packet(1, Ms(1), size: 1000);
        controller.OnPacketSent(first.TimeSent, first.Size);
        controller.OnPacketSent(second.TimeSent, second.Size);

        controller.OnPacketAcked(first, Ms(100), rtt);
        Assert.Equal(13200, controller.CongestionWindow);
        controller.OnPacketAcked(second, Ms(101), rtt);
        Assert.Equal(14200, controller.CongestionWindow);
        Assert.Equal(0, controller.BytesInFlight);
    }

    [Fact]
    public void Loss_halves_the_window_once_per_recovery_period()
    {
        var controller = new NewRenoCongestionController();
        var packets = new[] { Packet(0, Ms(1)), Packet(1, Ms(5)), Packet(2, Ms(20)) };
        foreach (var packet in packets)
        {
            controller.OnPacketSent(packet.TimeSent, packet.Size);
        }

        controller.OnPacketsLost(new[] { packets[0] }, Ms(10), persistentCongestion: false);
        Assert.Equal(6000, controller.CongestionWindow);
        Assert.Equal(6000, controller.SlowStartThreshold);

        // Sent before the recovery period started at 10 ms: the same congestion event.
        controller.OnPacketsLost(new[] { packets[1] }, Ms(30), persistentCongestion: false);
        Assert.Equal(6000, controller.CongestionWindow);

        // Sent after it started: a new event.
        controller.OnPacketsLost(new[] { packets[2] }, Ms(40), persistentCongestion: false);
        Assert.Equal(3000, controller.CongestionWindow);
        Assert.Equal(0, controller.BytesInFlight);
    }

    [Fact]
    public void Window_never_drops_below_the_minimum()
    {
        var controller = new NewRenoCongestionController();
        for (int i = 0; i < 6; i++)
        {
            var packet = Packet((ulong)i, Ms(10 * i));
            controller.OnPacketSent(packet.TimeSent, packet.Size);
            controller.OnPacketsLost(new[] { packet }, Ms((10 * i) + 5), persistentCongestion: false);
        }

        Assert.Equal(2400, controller.CongestionWindow);
    }

    [Fact]
    public void Acks_of_packets_sent_before_recovery_do_not_grow_the_window()
    {
        var controller = new NewRenoCongestionController();
        var lost = Packet(0, Ms(0));
        var early = Packet(1, Ms(1));
        var late = Packet(2, Ms(20));
        foreach (var packet in new[] { lost, early, late })
        {
            controller.OnPacketSent(packet.TimeSent, packet.Size);
        }

        controller.OnPacketsLost(new[] { lost }, Ms(10), persistentCongestion: false);
        controller.OnPacketAcked(early, Ms(11), rtt);
        Assert.Equal(6000, controller.CongestionWindow);

        // cwnd == ssthresh: congestion avoidance, and 1200 of 6000 bytes do not make a full window yet.
        controller.OnPacketAcked(late, Ms(30), rtt);
        Assert.Equal(6000, controller.CongestionWindow);
        Assert.False(controller.InSlowStart);
    }

    [Fact]
    public void Congestion_avoidance_adds_one_datagram_per_window_acknowledged()
    {
        var controller = new NewRenoCongestionController();
        var lost = Packet(0, Ms(0));
        controller.OnPacketSent(lost.TimeSent, lost.Size);
        controller.OnPacketsLost(new[] { lost }, Ms(10), persistentCongestion: false);
        Assert.Equal(6000, controller.CongestionWindow);

        for (int i = 1; i <= 5; i++)
        {
            var packet = Packet((ulong)i, Ms(10 + i));
            controller.OnPacketSent(packet.TimeSent, packet.Size);
            controller.OnPacketAcked(packet, Ms(100 + i), rtt);
            Assert.Equal(i < 5 ? 6000 : 7200, controller.CongestionWindow);
        }
    }

    [Fact]
    public void Persistent_congestion_collapses_to_the_minimum_window()
    {
        var controller = new NewRenoCongestionController();
        var packet = Packet(0, Ms(0));
        controller.OnPacketSent(packet.TimeSent, packet.Size);

        controller.OnPacketsLost(new[] { packet }, Ms(10), persistentCongestion: true);

        Assert.Equal(2400, controller.CongestionWindow);

        // The recovery period was reset, so an acknowledgement of an older packet grows the window again (slow start).
        var older = Packet(1, Ms(5));
        controller.OnPacketSent(older.TimeSent, older.Size);
        controller.OnPacketAcked(older, Ms(20), rtt);
        Assert.Equal(3600, controller.CongestionWindow);
    }

    [Fact]
    public void Application_limited_acks_do_not_grow_the_window()
    {
        var controller = new NewRenoCongestionController { IsApplicationLimited = true };
        var packet = Packet(0, Ms(0));
        controller.OnPacketSent(packet.TimeSent, packet.Size);

        controller.OnPacketAcked(packet, Ms(100), rtt);

        Assert.Equal(12000, controller.CongestionWindow);
        Assert.Equal(0, controller.BytesInFlight);
    }

    [Fact]
    public void Packets_not_in_flight_do_not_count()
    {
        var controller = new NewRenoCongestionController();
        var ackOnly = Packet(0, Ms(0), ackEliciting: false);
        ackOnly.InFlight = false;

        controller.OnPacketAcked(ackOnly, Ms(100), rtt);
        controller.OnPacketsLost(new[] { ackOnly }, Ms(100), persistentCongestion: false);

        Assert.Equal(12000, controller.CongestionWindow);
    }

    [Fact]
    public void Datagram_size_change_recomputes_the_initial_window_until_it_was_used()
    {
        var controller = new NewRenoCongestionController();
        controller.SetMaxDatagramSize(1400);
        Assert.Equal(14000, controller.CongestionWindow);

        var packet = Packet(0, Ms(0));
        controller.OnPacketSent(packet.TimeSent, packet.Size);
        controller.OnPacketsLost(new[] { packet }, Ms(10), persistentCongestion: true);
        controller.SetMaxDatagramSize(1500);
        Assert.Equal(3000, controller.CongestionWindow);
    }
}
