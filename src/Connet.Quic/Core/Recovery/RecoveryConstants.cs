namespace Connet.Quic.Core.Recovery;

/// <summary>The constants RFC 9002 recommends (§6.1, §6.2, §7.6, Appendix A.2 and B.2).</summary>
internal static class RecoveryConstants
{
    /// <summary>kPacketThreshold: reordering, in packets, tolerated before a packet is declared lost.</summary>
    public const ulong PacketThreshold = 3;

    /// <summary>kTimeThreshold = 9/8: reordering, in multiples of the RTT, tolerated before a packet is declared lost.</summary>
    public const int TimeThresholdNumerator = 9;

    public const int TimeThresholdDenominator = 8;

    /// <summary>kGranularity: timers are assumed to be no more precise than this.</summary>
    public static readonly TimeSpan Granularity = TimeSpan.FromMilliseconds(1);

    /// <summary>kInitialRtt: the RTT assumed before the first sample.</summary>
    public static readonly TimeSpan InitialRtt = TimeSpan.FromMilliseconds(333);

    /// <summary>kPersistentCongestionThreshold, in PTO periods.</summary>
    public const int PersistentCongestionThreshold = 3;

    /// <summary>The max_ack_delay transport parameter's default (RFC 9000 §18.2).</summary>
    public static readonly TimeSpan DefaultMaxAckDelay = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Caps the PTO backoff exponent so the doubling cannot overflow; at 2^16 the PTO is hours, far past any idle timeout.
    /// </summary>
    public const int MaxPtoBackoffExponent = 16;

    public static TimeSpan TimeThreshold(TimeSpan rtt) =>
        TimeSpan.FromTicks(rtt.Ticks * TimeThresholdNumerator / TimeThresholdDenominator);

    public static TimeSpan Max(TimeSpan left, TimeSpan right) => left >= right ? left : right;

    public static TimeSpan Min(TimeSpan left, TimeSpan right) => left <= right ? left : right;
}
