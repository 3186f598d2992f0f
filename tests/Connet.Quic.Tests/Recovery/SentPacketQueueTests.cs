using Connet.Quic.Core.Recovery;
using static Connet.Quic.Tests.Recovery.RecoveryTestHelpers;

namespace Connet.Quic.Tests.Recovery;

public class SentPacketQueueTests
{
    private static ulong[] LiveNumbers(SentPacketQueue queue)
    {
        var numbers = new List<ulong>();
        for (int index = 0; index < queue.Count; index++)
        {
            if (queue.PacketAt(index) is { } packet)
            {
                numbers.Add(packet.PacketNumber);
            }
        }

        return numbers.ToArray();
    }

    [Fact]
    public void Keeps_order_and_positions_across_wraparound_and_growth()
    {
        var queue = new SentPacketQueue();
        ulong next = 0;
        for (; next < 50; next++)
        {
            queue.Add(Packet(next, Ms(next)));
        }

        // Free the head so later additions wrap around the ring, then outgrow it.
        for (int index = 0; index < 40; index++)
        {
            queue.RemoveAt(index);
        }

        queue.TrimHead();
        Assert.Equal(10, queue.Count);
        for (; next < 300; next++)
        {
            queue.Add(Packet(next, Ms(next)));
        }

        Assert.Equal(260, queue.LiveCount);
        Assert.Equal(Enumerable.Range(40, 260).Select(number => (ulong)number).ToArray(), LiveNumbers(queue));
        Assert.Equal(0, queue.LowerBound(0));
        Assert.Equal(60, queue.LowerBound(100));
        Assert.Equal(queue.Count, queue.LowerBound(300));
    }

    [Fact]
    public void Tombstones_keep_numbers_until_they_reach_the_head()
    {
        var queue = new SentPacketQueue();
        for (ulong number = 0; number < 5; number++)
        {
            queue.Add(Packet(number, Ms(0)));
        }

        queue.RemoveAt(2);
        queue.TrimHead();
        Assert.Equal(5, queue.Count);
        Assert.Equal(2UL, queue.NumberAt(2));
        Assert.Null(queue.PacketAt(2));

        queue.RemoveAt(0);
        queue.RemoveAt(1);
        queue.TrimHead();
        Assert.Equal(2, queue.Count);
        Assert.Equal(3UL, queue.NumberAt(0));
    }

    [Fact]
    public void Rejects_packet_numbers_that_do_not_increase()
    {
        var queue = new SentPacketQueue();
        queue.Add(Packet(5, Ms(0)));

        Assert.Throws<InvalidOperationException>(() => queue.Add(Packet(5, Ms(1))));
        Assert.Throws<InvalidOperationException>(() => queue.Add(Packet(3, Ms(1))));
    }

    [Fact]
    public void In_flight_enumeration_skips_removed_and_ack_only_packets()
    {
        var queue = new SentPacketQueue();
        queue.Add(Packet(0, Ms(0)));
        var ackOnly = Packet(1, Ms(0), ackEliciting: false);
        ackOnly.InFlight = false;
        queue.Add(ackOnly);
        queue.Add(Packet(2, Ms(0)));
        queue.Add(Packet(3, Ms(0)));
        queue.RemoveAt(2);

        Assert.Equal(new ulong[] { 0, 3 }, queue.InFlight().Select(packet => packet.PacketNumber).ToArray());
    }

    [Fact]
    public void Clear_hands_back_live_packets_and_remembers_the_largest_sent()
    {
        var queue = new SentPacketQueue();
        for (ulong number = 0; number < 4; number++)
        {
            queue.Add(Packet(number, Ms(0)));
        }

        queue.RemoveAt(1);
        var removed = new List<SentPacket>();

        queue.Clear(removed);

        Assert.Equal(new ulong[] { 0, 2, 3 }, removed.Select(packet => packet.PacketNumber).ToArray());
        Assert.Equal(0, queue.Count);
        Assert.Equal(3UL, queue.LargestSent);
    }
}
