using Connet.Quic.Core.Recovery;
using static Connet.Quic.Tests.Recovery.RecoveryTestHelpers;

namespace Connet.Quic.Tests.Recovery;

public class PacerTests
{
    [Fact]
    public void Allows_a_burst_then_spaces_packets_at_five_fourths_cwnd_per_rtt()
    {
        var pacer = new Pacer(maxDatagramSize: 1200, burstPackets: 10);
        var srtt = Span(100);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(Ms(0), pacer.NextSendTime(Ms(0), 1200, cwnd: 12000, srtt));
            pacer.OnPacketSent(Ms(0), 1200, 12000, srtt);
        }

        // Rate = 1.25 * 12000 B / 100 ms = 0.15 B/µs: 1200 bytes take 8 ms.
        Assert.Equal(Ms(8), pacer.NextSendTime(Ms(0), 1200, 12000, srtt));
        Assert.Equal(Ms(8), pacer.NextSendTime(Ms(4), 1200, 12000, srtt));
        Assert.Equal(Ms(8), pacer.NextSendTime(Ms(8), 1200, 12000, srtt));
        pacer.OnPacketSent(Ms(8), 1200, 12000, srtt);
        Assert.Equal(Ms(16), pacer.NextSendTime(Ms(8), 1200, 12000, srtt));
    }

    [Fact]
    public void Larger_window_paces_faster_and_the_burst_is_capped_by_packets()
    {
        var pacer = new Pacer(maxDatagramSize: 1200, burstPackets: 10);
        var srtt = Span(100);
        for (int i = 0; i < 10; i++)
        {
            pacer.OnPacketSent(Ms(0), 1200, 24000, srtt);
        }

        // 1.25 * 24000 / 100 ms = 0.3 B/µs: 4 ms per datagram.
        Assert.Equal(Ms(4), pacer.NextSendTime(Ms(0), 1200, 24000, srtt));
    }

    [Fact]
    public void Idle_time_refills_only_up_to_the_burst()
    {
        var pacer = new Pacer(maxDatagramSize: 1200, burstPackets: 2);
        var srtt = Span(100);
        pacer.OnPacketSent(Ms(0), 1200, 12000, srtt);
        pacer.OnPacketSent(Ms(0), 1200, 12000, srtt);

        var later = Ms(10_000);
        Assert.Equal(later, pacer.NextSendTime(later, 1200, 12000, srtt));
        pacer.OnPacketSent(later, 1200, 12000, srtt);
        pacer.OnPacketSent(later, 1200, 12000, srtt);
        Assert.Equal(later + Span(8), pacer.NextSendTime(later, 1200, 12000, srtt));
    }

    [Fact]
    public void Never_paces_without_a_window_or_rtt()
    {
        var pacer = new Pacer();
        for (int i = 0; i < 50; i++)
        {
            pacer.OnPacketSent(Ms(0), 1200, 12000, TimeSpan.Zero);
        }

        Assert.Equal(Ms(0), pacer.NextSendTime(Ms(0), 1200, 12000, TimeSpan.Zero));
    }
}
