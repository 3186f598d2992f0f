namespace Connet.Quic.Core.Recovery;

/// <summary>
/// Spreads sends over the RTT (RFC 9002 §7.7): a token bucket refilled at N * cwnd / smoothed_rtt bytes per unit of
/// time with N = 1.25, holding at most a burst of <c>burstPackets</c> datagrams (never more than the window).
/// </summary>
internal sealed class Pacer
{
    /// <summary>N in §7.7: pacing a little faster than cwnd per RTT keeps the window, not the pacer, the limit.</summary>
    public const double PacingGain = 1.25;

    public const int DefaultBurstPackets = 10;

    private readonly int burstPackets;
    private int maxDatagramSize;
    private double tokens;
    private Instant lastRefill;
    private bool started;

    public Pacer(int maxDatagramSize = NewRenoCongestionController.MinimumMaxDatagramSize, int burstPackets = DefaultBurstPackets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDatagramSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burstPackets, 1);
        this.maxDatagramSize = maxDatagramSize;
        this.burstPackets = burstPackets;
    }

    public void SetMaxDatagramSize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        maxDatagramSize = size;
    }

    /// <summary>
    /// The earliest time a packet of <paramref name="bytes"/> may leave: <paramref name="now"/> when the bucket holds
    /// enough, otherwise when it will have refilled. Does not consume; call <see cref="OnPacketSent"/> after sending.
    /// </summary>
    public Instant NextSendTime(Instant now, int bytes, long cwnd, TimeSpan smoothedRtt)
    {
        if (!IsPaced(cwnd, smoothedRtt))
        {
            return now;
        }

        Refill(now, cwnd, smoothedRtt);

        // A packet larger than the bucket can ever hold would otherwise wait forever.
        double needed = Math.Min(bytes, Capacity(cwnd));
        if (tokens >= needed)
        {
            return now;
        }

        double waitMicroseconds = (needed - tokens) * RttMicroseconds(smoothedRtt) / (PacingGain * cwnd);
        return new Instant(now.Microseconds + (long)Math.Ceiling(waitMicroseconds));
    }

    public void OnPacketSent(Instant now, int bytes, long cwnd, TimeSpan smoothedRtt)
    {
        if (!IsPaced(cwnd, smoothedRtt))
        {
            return;
        }

        Refill(now, cwnd, smoothedRtt);

        // Sends the pacer did not allow (probes) are not carried as debt: they must not delay the data behind them.
        tokens = Math.Max(0, tokens - bytes);
    }

    private static bool IsPaced(long cwnd, TimeSpan smoothedRtt) => cwnd > 0 && RttMicroseconds(smoothedRtt) > 0;

    private static double RttMicroseconds(TimeSpan rtt) => rtt.Ticks / TimeSpan.TicksPerMicrosecond;

    private double Capacity(long cwnd) => Math.Max(maxDatagramSize, Math.Min(cwnd, (long)burstPackets * maxDatagramSize));

    private void Refill(Instant now, long cwnd, TimeSpan smoothedRtt)
    {
        double capacity = Capacity(cwnd);
        if (!started)
        {
            started = true;
            tokens = capacity;
            lastRefill = now;
            return;
        }

        if (now > lastRefill)
        {
            double elapsed = now.Microseconds - lastRefill.Microseconds;
            tokens += elapsed * PacingGain * cwnd / RttMicroseconds(smoothedRtt);
            lastRefill = now;
        }

        tokens = Math.Min(tokens, capacity);
    }
}
