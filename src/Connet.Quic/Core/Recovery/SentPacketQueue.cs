using System.Collections;

namespace Connet.Quic.Core.Recovery;

/// <summary>
/// The packets sent in one packet number space and not yet acknowledged, lost or discarded, in packet number order.
/// </summary>
/// <remarks>
/// Packets are sent in increasing packet number order, so a ring buffer is a sorted structure: appending is O(1) and
/// an ACK range is found by binary search. Removed packets leave a tombstone (their number stays, the slot empties)
/// until they reach the head, so positions stay searchable and every packet number between the head and the tail that
/// has no entry was never sent.
/// </remarks>
internal sealed class SentPacketQueue
{
    private const int InitialCapacity = 64;

    private SentPacket?[] slots = new SentPacket?[InitialCapacity];
    private ulong[] numbers = new ulong[InitialCapacity];
    private int head;

    /// <summary>Entries between head and tail, tombstones included.</summary>
    public int Count { get; private set; }

    /// <summary>Packets still tracked.</summary>
    public int LiveCount { get; private set; }

    /// <summary>The largest packet number ever added, even after removal or <see cref="Clear"/>.</summary>
    public ulong? LargestSent { get; private set; }

    public void Add(SentPacket packet)
    {
        if (LargestSent is { } largest && packet.PacketNumber <= largest)
        {
            throw new InvalidOperationException(
                $"Packet number {packet.PacketNumber} was sent after {largest}; packet numbers must increase.");
        }

        if (Count == slots.Length)
        {
            Grow();
        }

        int slot = Physical(Count);
        slots[slot] = packet;
        numbers[slot] = packet.PacketNumber;
        Count++;
        LiveCount++;
        LargestSent = packet.PacketNumber;
    }

    /// <summary>The packet at a position, or null for a tombstone.</summary>
    public SentPacket? PacketAt(int index) => slots[Physical(index)];

    public ulong NumberAt(int index) => numbers[Physical(index)];

    /// <summary>The first position whose packet number is at least <paramref name="packetNumber"/> (Count if none).</summary>
    public int LowerBound(ulong packetNumber)
    {
        int low = 0;
        int high = Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (NumberAt(middle) < packetNumber)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>Empties a position, keeping its number. Positions do not move until <see cref="TrimHead"/>.</summary>
    public SentPacket RemoveAt(int index)
    {
        int slot = Physical(index);
        var packet = slots[slot] ?? throw new InvalidOperationException("The packet was already removed.");
        slots[slot] = null;
        LiveCount--;
        return packet;
    }

    /// <summary>Drops the tombstones at the head; positions shift.</summary>
    public void TrimHead()
    {
        while (Count > 0 && slots[head] is null)
        {
            head = (head + 1) & (slots.Length - 1);
            Count--;
        }
    }

    /// <summary>Moves every tracked packet to <paramref name="removed"/> and empties the queue.</summary>
    public void Clear(List<SentPacket> removed)
    {
        for (int index = 0; index < Count; index++)
        {
            int slot = Physical(index);
            if (slots[slot] is { } packet)
            {
                removed.Add(packet);
                slots[slot] = null;
            }
        }

        head = 0;
        Count = 0;
        LiveCount = 0;
    }

    /// <summary>The tracked packets with <see cref="SentPacket.InFlight"/> set, oldest first. Do not modify the queue while enumerating.</summary>
    public InFlightPackets InFlight() => new(this);

    private int Physical(int index) => (head + index) & (slots.Length - 1);

    private void Grow()
    {
        var newSlots = new SentPacket?[slots.Length * 2];
        var newNumbers = new ulong[slots.Length * 2];
        for (int index = 0; index < Count; index++)
        {
            newSlots[index] = slots[Physical(index)];
            newNumbers[index] = numbers[Physical(index)];
        }

        slots = newSlots;
        numbers = newNumbers;
        head = 0;
    }

    /// <summary>An allocation-free enumerable (when used with foreach directly) over the in-flight packets.</summary>
    public readonly struct InFlightPackets : IEnumerable<SentPacket>
    {
        private readonly SentPacketQueue queue;

        public InFlightPackets(SentPacketQueue queue) => this.queue = queue;

        public Enumerator GetEnumerator() => new(queue);

        IEnumerator<SentPacket> IEnumerable<SentPacket>.GetEnumerator() => GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    public struct Enumerator : IEnumerator<SentPacket>
    {
        private readonly SentPacketQueue queue;
        private int index;
        private SentPacket? current;

        public Enumerator(SentPacketQueue queue)
        {
            this.queue = queue;
            index = -1;
            current = null;
        }

        public readonly SentPacket Current => current ?? throw new InvalidOperationException("No current packet.");

        readonly object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            while (++index < queue.Count)
            {
                if (queue.PacketAt(index) is { InFlight: true } packet)
                {
                    current = packet;
                    return true;
                }
            }

            current = null;
            return false;
        }

        public void Reset()
        {
            index = -1;
            current = null;
        }

        public readonly void Dispose()
        {
        }
    }
}
