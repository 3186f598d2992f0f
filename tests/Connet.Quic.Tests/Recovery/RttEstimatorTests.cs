using Connet.Quic.Core.Recovery;
using static Connet.Quic.Tests.Recovery.RecoveryTestHelpers;

namespace Connet.Quic.Tests.Recovery;

public class RttEstimatorTests
{
    [Fact]
    public void Before_any_sample_uses_the_initial_rtt()
    {
        var rtt = new RttEstimator(Span(333));

        Assert.False(rtt.HasSample);
        Assert.Equal(Span(333), rtt.SmoothedRtt);
        Assert.Equal(Span(166.5), rtt.RttVariance);

        // 333 + 4 * 166.5 and no max_ack_delay for the handshake spaces.
        Assert.Equal(Span(999), rtt.ProbeTimeout(TimeSpan.Zero));
    }

    [Fact]
    public void First_sample_sets_smoothed_to_it_and_variance_to_half_ignoring_ack_delay()
    {
        var rtt = new RttEstimator(Span(333));

        rtt.Update(Span(100), ackDelay: Span(10), handshakeConfirmed: true, maxAckDelay: Span(25));

        Assert.True(rtt.HasSample);
        Assert.Equal(Span(100), rtt.LatestRtt);
        Assert.Equal(Span(100), rtt.MinRtt);
        Assert.Equal(Span(100), rtt.SmoothedRtt);
        Assert.Equal(Span(50), rtt.RttVariance);
        Assert.Equal(Span(100 + 200 + 25), rtt.ProbeTimeout(Span(25)));
    }

    [Fact]
    public void After_confirmation_ack_delay_is_capped_by_max_ack_delay()
    {
        var rtt = new RttEstimator(Span(333));
        rtt.Update(Span(100), TimeSpan.Zero, handshakeConfirmed: true, maxAckDelay: Span(25));

        // ack_delay 30 capped to 25; adjusted = 140 - 25 = 115.
        rtt.Update(Span(140), ackDelay: Span(30), handshakeConfirmed: true, maxAckDelay: Span(25));

        Assert.Equal(Span(140), rtt.LatestRtt);
        Assert.Equal(Span(100), rtt.MinRtt);
        Assert.Equal(Span(41.25), rtt.RttVariance); // 3/4 * 50 + 1/4 * |100 - 115|
        Assert.Equal(Span(101.875), rtt.SmoothedRtt); // 7/8 * 100 + 1/8 * 115
    }

    [Fact]
    public void Before_confirmation_the_full_ack_delay_is_subtracted()
    {
        var rtt = new RttEstimator(Span(333));
        rtt.Update(Span(100), TimeSpan.Zero, handshakeConfirmed: false, maxAckDelay: Span(25));

        // adjusted = 140 - 30 = 110.
        rtt.Update(Span(140), ackDelay: Span(30), handshakeConfirmed: false, maxAckDelay: Span(25));

        Assert.Equal(Span(40), rtt.RttVariance); // 37.5 + 10/4
        Assert.Equal(Span(101.25), rtt.SmoothedRtt); // (700 + 110) / 8
    }

    [Fact]
    public void Ack_delay_is_not_subtracted_when_that_would_go_below_min_rtt()
    {
        var rtt = new RttEstimator(Span(333));
        rtt.Update(Span(100), TimeSpan.Zero, handshakeConfirmed: true, maxAckDelay: Span(25));

        // 105 < 100 + 20, so the sample is used unadjusted.
        rtt.Update(Span(105), ackDelay: Span(20), handshakeConfirmed: true, maxAckDelay: Span(25));

        Assert.Equal(Span(38.75), rtt.RttVariance); // (150 + 5) / 4
        Assert.Equal(Span(100.625), rtt.SmoothedRtt); // (700 + 105) / 8
    }

    [Fact]
    public void Min_rtt_tracks_raw_samples_without_ack_delay_adjustment()
    {
        var rtt = new RttEstimator(Span(333));
        rtt.Update(Span(100), TimeSpan.Zero, handshakeConfirmed: true, maxAckDelay: Span(25));

        rtt.Update(Span(80), ackDelay: Span(10), handshakeConfirmed: true, maxAckDelay: Span(25));

        Assert.Equal(Span(80), rtt.MinRtt);
        Assert.Equal(Span(80), rtt.LatestRtt);

        // min_rtt is updated first, so 80 < 80 + 10 and the sample is used as is.
        Assert.Equal(Span(97.5), rtt.SmoothedRtt); // (700 + 80) / 8
    }

    [Fact]
    public void Probe_timeout_uses_the_granularity_floor_when_variance_is_tiny()
    {
        var rtt = new RttEstimator(Span(333));
        rtt.Update(TimeSpan.FromMicroseconds(200), TimeSpan.Zero, handshakeConfirmed: true, maxAckDelay: TimeSpan.Zero);

        // 4 * rttvar = 400 µs < kGranularity.
        Assert.Equal(TimeSpan.FromMicroseconds(200) + Span(1), rtt.ProbeTimeout(TimeSpan.Zero));
    }
}
