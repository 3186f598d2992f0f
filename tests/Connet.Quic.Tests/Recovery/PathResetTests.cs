using Connet.Quic.Core;
using Connet.Quic.Core.Recovery;

namespace Connet.Quic.Tests.Recovery;

public class PathResetTests
{
    [Fact]
    public void Rtt_reset_forgets_samples_and_returns_to_the_initial_estimate()
    {
        var rtt = new RttEstimator(TimeSpan.FromMilliseconds(333));
        rtt.Update(TimeSpan.FromMilliseconds(20), TimeSpan.Zero, handshakeConfirmed: true, TimeSpan.FromMilliseconds(25));
        Assert.Equal(TimeSpan.FromMilliseconds(20), rtt.SmoothedRtt);

        rtt.Reset();

        Assert.False(rtt.HasSample);
        Assert.Equal(TimeSpan.FromMilliseconds(333), rtt.SmoothedRtt);
        Assert.Equal(TimeSpan.FromMilliseconds(166.5), rtt.RttVariance);
        Assert.Equal(TimeSpan.Zero, rtt.MinRtt);
    }

    [Fact]
    public void Congestion_reset_returns_to_slow_start_with_the_initial_window()
    {
        var controller = new NewRenoCongestionController(1200);
        long initial = controller.CongestionWindow;
        var lost = new SentPacket { PacketNumber = 1, TimeSent = new Instant(1000), Size = 1200, InFlight = true, AckEliciting = true };
        controller.OnPacketSent(lost.TimeSent, lost.Size);
        controller.OnPacketsLost([lost], new Instant(2000), persistentCongestion: false);
        Assert.True(controller.CongestionWindow < initial);
        Assert.False(controller.InSlowStart);

        controller.ResetForNewPath();

        Assert.Equal(initial, controller.CongestionWindow);
        Assert.True(controller.InSlowStart);
    }
}
