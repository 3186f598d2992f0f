namespace Connet.Quic.Core;

/// <summary>
/// A point on the monotonic clock the driver feeds the protocol core, in microseconds since an arbitrary origin.
/// The core never reads a clock itself, so simulated tests control time completely.
/// </summary>
internal readonly record struct Instant(long Microseconds) : IComparable<Instant>
{
    public static readonly Instant Zero = new(0);

    /// <summary>Used for "no deadline": later than any reachable time.</summary>
    public static readonly Instant Never = new(long.MaxValue);

    public static Instant FromTimestamp(long timestamp, long frequency) =>
        new((long)(timestamp * (1_000_000.0 / frequency)));

    public static Instant operator +(Instant instant, TimeSpan span) =>
        instant == Never ? Never : new(instant.Microseconds + (long)(span.Ticks / TimeSpan.TicksPerMicrosecond));

    public static Instant operator -(Instant instant, TimeSpan span) =>
        new(instant.Microseconds - (long)(span.Ticks / TimeSpan.TicksPerMicrosecond));

    public static TimeSpan operator -(Instant left, Instant right) =>
        TimeSpan.FromTicks((left.Microseconds - right.Microseconds) * TimeSpan.TicksPerMicrosecond);

    public static bool operator <(Instant left, Instant right) => left.Microseconds < right.Microseconds;

    public static bool operator >(Instant left, Instant right) => left.Microseconds > right.Microseconds;

    public static bool operator <=(Instant left, Instant right) => left.Microseconds <= right.Microseconds;

    public static bool operator >=(Instant left, Instant right) => left.Microseconds >= right.Microseconds;

    public static Instant Min(Instant left, Instant right) => left <= right ? left : right;

    public static Instant Max(Instant left, Instant right) => left >= right ? left : right;

    public int CompareTo(Instant other) => Microseconds.CompareTo(other.Microseconds);

    public override string ToString() => this == Never ? "never" : $"{Microseconds}µs";
}
