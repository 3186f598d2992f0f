using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>
/// ACK / ACK_ECN (§19.3), decoded in place: the additional ranges stay as their wire bytes in
/// <see cref="RangesBytes"/> and are walked lazily by <see cref="GetRanges"/>. Decode has already checked every
/// range, so walking them cannot fail.
/// </summary>
internal readonly ref struct AckFrame
{
    private AckFrame(ulong largestAcknowledged, ulong ackDelay, ulong firstAckRange, ulong rangeCount,
        ReadOnlySpan<byte> rangesBytes, bool hasEcn, ulong ect0, ulong ect1, ulong ce)
    {
        LargestAcknowledged = largestAcknowledged;
        AckDelay = ackDelay;
        FirstAckRange = firstAckRange;
        RangeCount = rangeCount;
        RangesBytes = rangesBytes;
        HasEcn = hasEcn;
        Ect0 = ect0;
        Ect1 = ect1;
        Ce = ce;
    }

    public ulong LargestAcknowledged { get; }

    /// <summary>The raw ack delay field; multiply by 2^ack_delay_exponent for microseconds.</summary>
    public ulong AckDelay { get; }

    public ulong FirstAckRange { get; }

    /// <summary>
    /// The ack delay in microseconds for the peer's ack_delay_exponent (at most 20), saturating instead of wrapping
    /// when a hostile peer sends a huge raw value.
    /// </summary>
    public ulong AckDelayMicroseconds(ulong ackDelayExponent)
    {
        int shift = (int)Math.Min(ackDelayExponent, 63);
        return AckDelay > (ulong.MaxValue >> shift) ? ulong.MaxValue : AckDelay << shift;
    }

    /// <summary>The number of (gap, length) pairs after the first range.</summary>
    public ulong RangeCount { get; }

    public ReadOnlySpan<byte> RangesBytes { get; }

    public bool HasEcn { get; }

    public ulong Ect0 { get; }

    public ulong Ect1 { get; }

    public ulong Ce { get; }

    public EcnCounts? Ecn => HasEcn ? new EcnCounts(Ect0, Ect1, Ce) : null;

    /// <summary>The smallest packet number of the first (highest) range.</summary>
    public ulong FirstRangeSmallest => LargestAcknowledged - FirstAckRange;

    public int EncodedLength =>
        1 + VarInt.EncodedLength(LargestAcknowledged) + VarInt.EncodedLength(AckDelay)
        + VarInt.EncodedLength(RangeCount) + VarInt.EncodedLength(FirstAckRange) + RangesBytes.Length
        + (HasEcn ? VarInt.EncodedLength(Ect0) + VarInt.EncodedLength(Ect1) + VarInt.EncodedLength(Ce) : 0);

    /// <summary>Decodes the frame body after its type (0x02 or 0x03).</summary>
    public static AckFrame Decode(scoped ref SpanReader reader, ulong rawType)
    {
        ulong largest = FrameDecoding.ReadVarInt(ref reader, rawType);
        ulong ackDelay = FrameDecoding.ReadVarInt(ref reader, rawType);
        ulong rangeCount = FrameDecoding.ReadVarInt(ref reader, rawType);
        ulong firstRange = FrameDecoding.ReadVarInt(ref reader, rawType);
        if (firstRange > largest)
        {
            FrameDecoding.ThrowInvalid(rawType, "first ACK range below packet number 0");
        }

        // Each range consumes at least two bytes, so a huge claimed count runs out of input after O(length) steps.
        ReadOnlySpan<byte> rangesStart = reader.RemainingSpan;
        ulong smallest = largest - firstRange;
        for (ulong i = 0; i < rangeCount; i++)
        {
            ulong gap = FrameDecoding.ReadVarInt(ref reader, rawType);
            ulong length = FrameDecoding.ReadVarInt(ref reader, rawType);

            // The next range's largest is smallest - gap - 2 (§19.3.1); it and its smallest must stay >= 0.
            if (gap + 2 > smallest)
            {
                FrameDecoding.ThrowInvalid(rawType, "ACK gap below packet number 0");
            }

            ulong rangeLargest = smallest - gap - 2;
            if (length > rangeLargest)
            {
                FrameDecoding.ThrowInvalid(rawType, "ACK range below packet number 0");
            }

            smallest = rangeLargest - length;
        }

        ReadOnlySpan<byte> rangesBytes = rangesStart[..(rangesStart.Length - reader.Remaining)];

        bool hasEcn = rawType == (ulong)FrameType.AckEcn;
        ulong ect0 = 0, ect1 = 0, ce = 0;
        if (hasEcn)
        {
            ect0 = FrameDecoding.ReadVarInt(ref reader, rawType);
            ect1 = FrameDecoding.ReadVarInt(ref reader, rawType);
            ce = FrameDecoding.ReadVarInt(ref reader, rawType);
        }

        return new AckFrame(largest, ackDelay, firstRange, rangeCount, rangesBytes, hasEcn, ect0, ect1, ce);
    }

    /// <summary>The acknowledged ranges, highest first.</summary>
    public AckRangeEnumerator GetRanges() => new(LargestAcknowledged, FirstAckRange, RangesBytes);

    /// <summary>Re-encodes the frame exactly as decoded.</summary>
    public void Encode(ref SpanWriter writer)
    {
        writer.WriteVarInt((ulong)(HasEcn ? FrameType.AckEcn : FrameType.Ack));
        writer.WriteVarInt(LargestAcknowledged);
        writer.WriteVarInt(AckDelay);
        writer.WriteVarInt(RangeCount);
        writer.WriteVarInt(FirstAckRange);
        writer.WriteBytes(RangesBytes);
        if (HasEcn)
        {
            writer.WriteVarInt(Ect0);
            writer.WriteVarInt(Ect1);
            writer.WriteVarInt(Ce);
        }
    }

    /// <summary>
    /// The encoded size of an ACK for <paramref name="rangesDescending"/> (highest first, non-overlapping,
    /// non-adjacent, at least one).
    /// </summary>
    public static int EncodedLengthFor(scoped ReadOnlySpan<AckRange> rangesDescending, ulong ackDelay, EcnCounts? ecn)
    {
        ValidateRanges(rangesDescending);
        AckRange first = rangesDescending[0];
        int length = 1 + VarInt.EncodedLength(first.Largest) + VarInt.EncodedLength(ackDelay)
            + VarInt.EncodedLength((ulong)(rangesDescending.Length - 1)) + VarInt.EncodedLength(first.Largest - first.Smallest);
        ulong previousSmallest = first.Smallest;
        foreach (AckRange range in rangesDescending[1..])
        {
            length += VarInt.EncodedLength(previousSmallest - range.Largest - 2) + VarInt.EncodedLength(range.Largest - range.Smallest);
            previousSmallest = range.Smallest;
        }

        if (ecn is { } counts)
        {
            length += VarInt.EncodedLength(counts.Ect0) + VarInt.EncodedLength(counts.Ect1) + VarInt.EncodedLength(counts.Ce);
        }

        return length;
    }

    /// <summary>Writes an ACK (or ACK_ECN when <paramref name="ecn"/> is given) for the given ranges.</summary>
    public static void Encode(ref SpanWriter writer, scoped ReadOnlySpan<AckRange> rangesDescending, ulong ackDelay, EcnCounts? ecn)
    {
        ValidateRanges(rangesDescending);
        AckRange first = rangesDescending[0];
        writer.WriteVarInt((ulong)(ecn.HasValue ? FrameType.AckEcn : FrameType.Ack));
        writer.WriteVarInt(first.Largest);
        writer.WriteVarInt(ackDelay);
        writer.WriteVarInt((ulong)(rangesDescending.Length - 1));
        writer.WriteVarInt(first.Largest - first.Smallest);
        ulong previousSmallest = first.Smallest;
        foreach (AckRange range in rangesDescending[1..])
        {
            writer.WriteVarInt(previousSmallest - range.Largest - 2);
            writer.WriteVarInt(range.Largest - range.Smallest);
            previousSmallest = range.Smallest;
        }

        if (ecn is { } counts)
        {
            writer.WriteVarInt(counts.Ect0);
            writer.WriteVarInt(counts.Ect1);
            writer.WriteVarInt(counts.Ce);
        }
    }

    // Our own ranges come from the receive tracker; a malformed list there is a bug, so it throws an argument error.
    private static void ValidateRanges(scoped ReadOnlySpan<AckRange> rangesDescending)
    {
        if (rangesDescending.IsEmpty)
        {
            throw new ArgumentException("An ACK frame needs at least one range.", nameof(rangesDescending));
        }

        for (int i = 0; i < rangesDescending.Length; i++)
        {
            AckRange range = rangesDescending[i];
            if (range.Smallest > range.Largest || range.Largest > VarInt.MaxValue)
            {
                throw new ArgumentException($"ACK range {i} is inverted or out of range.", nameof(rangesDescending));
            }

            // Adjacent ranges (a gap of zero packets) cannot be expressed: they must have been merged.
            if (i > 0 && range.Largest + 2 > rangesDescending[i - 1].Smallest)
            {
                throw new ArgumentException($"ACK range {i} overlaps or touches the previous one.", nameof(rangesDescending));
            }
        }
    }
}
