using System.Numerics;

namespace Connet.Quic.Core.Packets;

/// <summary>Packet number truncation and reconstruction (RFC 9000 §17.1, Appendix A.2-A.3).</summary>
internal static class PacketNumberCoding
{
    public const int MaxLength = 4;

    /// <summary>Maximum packet number value (RFC 9000 §12.3).</summary>
    public const ulong MaxPacketNumber = (1UL << 62) - 1;

    /// <summary>
    /// Bytes needed so that the receiver can reconstruct <paramref name="packetNumber"/>: the encoding must cover
    /// twice the number of packets in flight since <paramref name="largestAcked"/> (null when nothing was acked).
    /// </summary>
    public static int EncodedLength(ulong packetNumber, ulong? largestAcked)
    {
        if (largestAcked is { } acked && acked >= packetNumber)
        {
            throw new ArgumentOutOfRangeException(nameof(largestAcked), acked, "Packets are sent with numbers above the largest acknowledged.");
        }

        ulong unacknowledged = largestAcked is { } a ? packetNumber - a : packetNumber + 1;

        // ceil(log2(unacknowledged)) + 1 bits, rounded up to whole bytes.
        int log2Ceiling = unacknowledged <= 1 ? 0 : BitOperations.Log2(unacknowledged - 1) + 1;
        int bytes = (log2Ceiling + 1 + 7) / 8;
        if (bytes > MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(packetNumber), packetNumber, "Too many unacknowledged packets to encode the packet number.");
        }

        return bytes;
    }

    /// <summary>
    /// Reconstructs the full packet number closest to the one after <paramref name="largestReceived"/> (null before
    /// the first packet of the space was processed).
    /// </summary>
    public static ulong Decode(ulong? largestReceived, ulong truncatedPacketNumber, int packetNumberLength)
    {
        if (packetNumberLength is < 1 or > MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(packetNumberLength));
        }

        ulong expected = largestReceived is { } largest ? largest + 1 : 0;
        ulong window = 1UL << (packetNumberLength * 8);
        ulong halfWindow = window / 2;
        ulong mask = window - 1;
        ulong candidate = (expected & ~mask) | (truncatedPacketNumber & mask);

        // The explicit bounds checks keep the arithmetic inside [0, 2^62) where the RFC's signed comparisons would wrap.
        if (expected >= halfWindow && candidate <= expected - halfWindow && candidate < (1UL << 62) - window)
        {
            return candidate + window;
        }

        if (candidate > expected + halfWindow && candidate >= window)
        {
            return candidate - window;
        }

        return candidate;
    }
}
