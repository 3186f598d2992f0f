namespace Connet.Quic.Core.Recovery;

/// <summary>
/// The receiving side of one packet number space (RFC 9000 §13.2): which packet numbers arrived, for duplicate
/// detection and ACK frames, and when an ACK has to be sent.
/// </summary>
/// <remarks>
/// Memory is bounded: beyond <c>maxRanges</c> ranges the oldest is dropped, and once an ACK of ours is acknowledged the
/// ranges it covered are dropped (§13.2.4). Either way the floor below which packets count as duplicates rises, which
/// is how §13.2.3 lets a receiver forget ranges without accepting a packet twice.
/// </remarks>
internal sealed class ReceivedPacketTracker
{
    public const int DefaultMaxRanges = 32;

    // RFC 9000 §13.2.2: acknowledge at least every second ack-eliciting packet.
    private const int AckElicitingPacketsBeforeImmediateAck = 2;

    // Descending: [0] holds the largest packet numbers, so the ACK frame encoder reads them in wire order.
    private readonly PacketRange[] ranges;
    private int rangeCount;

    // Packets below this are no longer tracked and are treated as duplicates.
    private ulong floor;

    private ulong? largestAckEliciting;
    private Instant largestReceivedTime;
    private int ackElicitingSinceAck;
    private TimeSpan maxAckDelay = RecoveryConstants.DefaultMaxAckDelay;

    public ReceivedPacketTracker(int maxRanges = DefaultMaxRanges)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRanges, 1);

        // One spare slot lets an insertion happen before the oldest range is dropped.
        ranges = new PacketRange[maxRanges + 1];
        MaxRanges = maxRanges;
    }

    public int MaxRanges { get; }

    public ulong? LargestReceived { get; private set; }

    /// <summary>An ack-eliciting packet arrived since the last ACK was sent: an ACK is owed, by <see cref="AckDeadline"/>.</summary>
    public bool AckPending { get; private set; }

    /// <summary>
    /// Some packet (ack-eliciting or not) arrived since the last ACK was sent. Such packets never trigger an ACK on their
    /// own (§13.2.1), but an ACK can ride along in any packet of the space while this is set.
    /// </summary>
    public bool HasUnsentAcknowledgements { get; private set; }

    /// <summary>When the owed ACK must be sent; <see cref="Instant.Never"/> when none is owed.</summary>
    public Instant AckDeadline { get; private set; } = Instant.Never;

    /// <summary>The ranges to report, largest first; empty when there is nothing left to acknowledge.</summary>
    public ReadOnlySpan<PacketRange> RangesDescending => ranges.AsSpan(0, rangeCount);

    /// <summary>Our own max_ack_delay (the value we advertised); bounds how long an ACK may be held back.</summary>
    public void SetMaxAckDelay(TimeSpan maxAckDelay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAckDelay, TimeSpan.Zero);
        this.maxAckDelay = maxAckDelay;
    }

    /// <summary>True when the packet was already received, or is too old to be told apart from one that was.</summary>
    public bool IsDuplicate(ulong packetNumber)
    {
        if (packetNumber < floor)
        {
            return true;
        }

        return IndexOfRangeContaining(packetNumber) >= 0;
    }

    /// <summary>
    /// Records a packet that was successfully processed. <paramref name="immediateAckSpace"/> is true for Initial and
    /// Handshake, where every ack-eliciting packet is acknowledged at once (§13.2.1). Duplicates are ignored.
    /// </summary>
    public void OnPacketReceived(ulong packetNumber, bool ackEliciting, Instant now, bool immediateAckSpace)
    {
        if (IsDuplicate(packetNumber))
        {
            return;
        }

        // §13.2.1: reordering or a gap is reported at once, so the sender's loss detection learns of it quickly.
        bool outOfOrder = ackEliciting && largestAckEliciting is { } largestEliciting &&
            (packetNumber < largestEliciting || (packetNumber > largestEliciting + 1 && !IsContiguousDownTo(packetNumber - 1, largestEliciting)));

        Insert(packetNumber);
        HasUnsentAcknowledgements = true;
        if (LargestReceived is not { } largest || packetNumber > largest)
        {
            LargestReceived = packetNumber;
            largestReceivedTime = now;
        }

        if (!ackEliciting)
        {
            return;
        }

        if (largestAckEliciting is not { } previous || packetNumber > previous)
        {
            largestAckEliciting = packetNumber;
        }

        AckPending = true;
        ackElicitingSinceAck++;
        var deadline = immediateAckSpace || outOfOrder || ackElicitingSinceAck >= AckElicitingPacketsBeforeImmediateAck
            ? now
            : now + maxAckDelay;
        AckDeadline = Instant.Min(AckDeadline, deadline);
    }

    /// <summary>
    /// The delay to report in the ACK Delay field (before scaling by ack_delay_exponent): the time since the largest
    /// packet was received (§13.2.5).
    /// </summary>
    public TimeSpan AckDelay(Instant now)
    {
        if (LargestReceived is null || now <= largestReceivedTime)
        {
            return TimeSpan.Zero;
        }

        return now - largestReceivedTime;
    }

    /// <summary>An ACK frame with the current ranges was sent: nothing is owed until new packets arrive.</summary>
    public void OnAckSent(Instant now)
    {
        AckPending = false;
        HasUnsentAcknowledgements = false;
        AckDeadline = Instant.Never;
        ackElicitingSinceAck = 0;
    }

    /// <summary>
    /// A packet carrying our ACK whose Largest Acknowledged was <paramref name="largestAcknowledgedInThatAck"/> was
    /// acknowledged: the peer knows about everything up to it, so stop reporting it (§13.2.4).
    /// </summary>
    public void OnAckAcknowledged(ulong largestAcknowledgedInThatAck)
    {
        if (largestAcknowledgedInThatAck < floor)
        {
            return;
        }

        floor = largestAcknowledgedInThatAck + 1;
        while (rangeCount > 0 && ranges[rangeCount - 1].Largest < floor)
        {
            rangeCount--;
        }

        if (rangeCount > 0 && ranges[rangeCount - 1].Smallest < floor)
        {
            ranges[rangeCount - 1] = ranges[rangeCount - 1] with { Smallest = floor };
        }
    }

    private int IndexOfRangeContaining(ulong packetNumber)
    {
        int low = 0;
        int high = rangeCount - 1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            var range = ranges[middle];
            if (packetNumber > range.Largest)
            {
                high = middle - 1;
            }
            else if (packetNumber < range.Smallest)
            {
                low = middle + 1;
            }
            else
            {
                return middle;
            }
        }

        return -1;
    }

    private bool IsContiguousDownTo(ulong from, ulong to)
    {
        int index = IndexOfRangeContaining(from);
        return index >= 0 && ranges[index].Smallest <= to;
    }

    private void Insert(ulong packetNumber)
    {
        int index = 0;
        while (index < rangeCount && packetNumber < ranges[index].Smallest)
        {
            index++;
        }

        // Now ranges[index] (if any) is the first range not entirely above the packet; the packet is not inside it.
        bool extendsLower = index < rangeCount && ranges[index].Largest + 1 == packetNumber;
        bool extendsHigher = index > 0 && ranges[index - 1].Smallest == packetNumber + 1;
        if (extendsLower && extendsHigher)
        {
            ranges[index - 1] = ranges[index - 1] with { Smallest = ranges[index].Smallest };
            RemoveAt(index);
        }
        else if (extendsLower)
        {
            ranges[index] = ranges[index] with { Largest = packetNumber };
        }
        else if (extendsHigher)
        {
            ranges[index - 1] = ranges[index - 1] with { Smallest = packetNumber };
        }
        else
        {
            Array.Copy(ranges, index, ranges, index + 1, rangeCount - index);
            ranges[index] = new PacketRange(packetNumber, packetNumber);
            rangeCount++;
            if (rangeCount > MaxRanges)
            {
                rangeCount--;
                floor = ranges[rangeCount].Largest + 1;
            }
        }
    }

    private void RemoveAt(int index)
    {
        Array.Copy(ranges, index + 1, ranges, index, rangeCount - index - 1);
        rangeCount--;
    }
}
