namespace Connet.Quic.Core.Recovery;

/// <summary>
/// NewReno, RFC 9002 §7 and Appendix B: slow start, congestion avoidance, one window reduction per recovery period,
/// and collapse to the minimum window on persistent congestion.
/// </summary>
internal sealed class NewRenoCongestionController : ICongestionController
{
    /// <summary>The smallest datagram every QUIC path must carry (RFC 9000 §14).</summary>
    public const int MinimumMaxDatagramSize = 1200;

    private int maxDatagramSize;

    // Null while no recovery period has started; a packet sent at or before it belongs to the current period.
    private Instant? recoveryStartTime;

    // Congestion avoidance grows the window by one datagram per window's worth of acknowledged bytes; counting exactly
    // avoids the rounding loss of max_datagram_size * acked / cwnd on every acknowledgement.
    private long bytesAckedInAvoidance;

    // Until the first acknowledgement or loss the window is still the initial one and follows datagram size changes.
    private bool windowAdjusted;

    public NewRenoCongestionController(int maxDatagramSize = MinimumMaxDatagramSize)
    {
        ValidateDatagramSize(maxDatagramSize);
        this.maxDatagramSize = maxDatagramSize;
        CongestionWindow = InitialWindowFor(maxDatagramSize);
    }

    public long CongestionWindow { get; private set; }

    /// <summary>Back to slow start with the initial window: the peer moved to a new network path (RFC 9000 §9.4).</summary>
    public void ResetForNewPath()
    {
        CongestionWindow = InitialWindowFor(maxDatagramSize);
        SlowStartThreshold = long.MaxValue;
        recoveryStartTime = null;
        bytesAckedInAvoidance = 0;
        windowAdjusted = false;
    }

    public long BytesInFlight { get; private set; }

    /// <summary>Slow start threshold; <see cref="long.MaxValue"/> until the first congestion event.</summary>
    public long SlowStartThreshold { get; private set; } = long.MaxValue;

    public bool IsApplicationLimited { get; set; }

    public bool InSlowStart => CongestionWindow < SlowStartThreshold;

    public int MaxDatagramSize => maxDatagramSize;

    /// <summary>kMinimumWindow = 2 * max_datagram_size.</summary>
    public long MinimumWindow => 2L * maxDatagramSize;

    /// <summary>kInitialWindow = min(10 * max_datagram_size, max(14720, 2 * max_datagram_size)), §7.2.</summary>
    public static long InitialWindowFor(int maxDatagramSize) =>
        Math.Min(10L * maxDatagramSize, Math.Max(14720L, 2L * maxDatagramSize));

    public bool CanSend(int bytes) => BytesInFlight + bytes <= CongestionWindow;

    public void OnPacketSent(Instant now, int bytes) => BytesInFlight += bytes;

    public void OnPacketAcked(SentPacket packet, Instant now, RttEstimator rtt)
    {
        ArgumentNullException.ThrowIfNull(packet);
        if (!packet.InFlight)
        {
            return;
        }

        RemoveFromFlight(packet.Size);
        if (IsApplicationLimited || InRecovery(packet.TimeSent))
        {
            return;
        }

        windowAdjusted = true;
        if (InSlowStart)
        {
            CongestionWindow += packet.Size;
            return;
        }

        bytesAckedInAvoidance += packet.Size;
        if (bytesAckedInAvoidance >= CongestionWindow)
        {
            bytesAckedInAvoidance -= CongestionWindow;
            CongestionWindow += maxDatagramSize;
        }
    }

    public void OnPacketsLost(ReadOnlySpan<SentPacket> lost, Instant now, bool persistentCongestion)
    {
        Instant? lastLostSendTime = null;
        foreach (var packet in lost)
        {
            if (!packet.InFlight)
            {
                continue;
            }

            RemoveFromFlight(packet.Size);
            if (lastLostSendTime is not { } last || packet.TimeSent > last)
            {
                lastLostSendTime = packet.TimeSent;
            }
        }

        if (lastLostSendTime is { } sentTime)
        {
            OnCongestionEvent(sentTime, now);
        }

        if (persistentCongestion)
        {
            windowAdjusted = true;
            CongestionWindow = MinimumWindow;
            bytesAckedInAvoidance = 0;
            recoveryStartTime = null;
        }
    }

    public void OnPacketDiscarded(int bytes) => RemoveFromFlight(bytes);

    public void SetMaxDatagramSize(int size)
    {
        ValidateDatagramSize(size);
        maxDatagramSize = size;

        // §7.2: the initial window is recalculated with a new size; a window in use only has to respect the minimum.
        CongestionWindow = windowAdjusted ? Math.Max(CongestionWindow, MinimumWindow) : InitialWindowFor(size);
    }

    private void OnCongestionEvent(Instant sentTime, Instant now)
    {
        // Losses of packets sent before the current recovery period started were caused by the same congestion.
        if (InRecovery(sentTime))
        {
            return;
        }

        windowAdjusted = true;
        recoveryStartTime = now;
        SlowStartThreshold = Math.Max(CongestionWindow / 2, MinimumWindow);
        CongestionWindow = SlowStartThreshold;
        bytesAckedInAvoidance = 0;
    }

    private bool InRecovery(Instant sentTime) => recoveryStartTime is { } start && sentTime <= start;

    private void RemoveFromFlight(int bytes) => BytesInFlight = Math.Max(0, BytesInFlight - bytes);

    private static void ValidateDatagramSize(int size)
    {
        if (size < MinimumMaxDatagramSize)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "QUIC datagrams are at least 1200 bytes.");
        }
    }
}
