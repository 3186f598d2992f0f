namespace Connet.Quic.Core.Recovery;

/// <summary>Round-trip time estimation, RFC 9002 §5.</summary>
internal sealed class RttEstimator
{
    public RttEstimator()
        : this(RecoveryConstants.InitialRtt)
    {
    }

    public RttEstimator(TimeSpan initialRtt)
    {
        if (initialRtt <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(initialRtt), initialRtt, "The initial RTT must be positive.");
        }

        InitialRtt = initialRtt;
        SmoothedRtt = initialRtt;
        RttVariance = initialRtt / 2;
    }

    public TimeSpan InitialRtt { get; }

    /// <summary>The most recent sample, unadjusted; zero before the first.</summary>
    public TimeSpan LatestRtt { get; private set; }

    public TimeSpan SmoothedRtt { get; private set; }

    public TimeSpan RttVariance { get; private set; }

    /// <summary>The minimum sample seen, never adjusted for ack delay; zero before the first sample.</summary>
    public TimeSpan MinRtt { get; private set; }

    public bool HasSample { get; private set; }

    /// <summary>
    /// Folds in one sample. <paramref name="ackDelay"/> is the peer-reported delay; after handshake confirmation it is
    /// capped by the peer's <paramref name="maxAckDelay"/> (before, the peer may legitimately exceed it, §5.3).
    /// </summary>
    public void Update(TimeSpan latestRtt, TimeSpan ackDelay, bool handshakeConfirmed, TimeSpan maxAckDelay)
    {
        if (latestRtt < TimeSpan.Zero)
        {
            latestRtt = TimeSpan.Zero;
        }

        LatestRtt = latestRtt;
        if (!HasSample)
        {
            HasSample = true;
            MinRtt = latestRtt;
            SmoothedRtt = latestRtt;
            RttVariance = latestRtt / 2;
            return;
        }

        MinRtt = RecoveryConstants.Min(MinRtt, latestRtt);
        if (ackDelay < TimeSpan.Zero)
        {
            ackDelay = TimeSpan.Zero;
        }

        if (handshakeConfirmed)
        {
            ackDelay = RecoveryConstants.Min(ackDelay, maxAckDelay);
        }

        // Subtracting the delay must not take the sample below the minimum, which would underestimate the path RTT.
        var adjustedRtt = latestRtt >= MinRtt + ackDelay ? latestRtt - ackDelay : latestRtt;
        RttVariance = ((3 * RttVariance) + (SmoothedRtt - adjustedRtt).Duration()) / 4;
        SmoothedRtt = ((7 * SmoothedRtt) + adjustedRtt) / 8;
    }

    /// <summary>smoothed_rtt + max(4*rttvar, kGranularity) + maxAckDelay (pass zero for Initial and Handshake), §6.2.1.</summary>
    /// <summary>Forgets every sample: the peer moved to a new network path (RFC 9000 §9.4).</summary>
    public void Reset()
    {
        LatestRtt = TimeSpan.Zero;
        MinRtt = TimeSpan.Zero;
        SmoothedRtt = InitialRtt;
        RttVariance = InitialRtt / 2;
        HasSample = false;
    }

    public TimeSpan ProbeTimeout(TimeSpan maxAckDelay) => ProbeTimeoutWithoutAckDelay + maxAckDelay;

    /// <summary>smoothed_rtt + max(4*rttvar, kGranularity).</summary>
    public TimeSpan ProbeTimeoutWithoutAckDelay =>
        SmoothedRtt + RecoveryConstants.Max(4 * RttVariance, RecoveryConstants.Granularity);
}
