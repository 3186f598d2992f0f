using Connet.Quic.Core.Streams;

namespace Connet.Quic.Tests.Streams;

public class SendBufferTests
{
    private static byte[] Pattern(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 13 + 1)).ToArray();

    private static (ulong Offset, int Length, bool Fin) Next(SendBuffer buffer, int maxLength = int.MaxValue, ulong limit = ulong.MaxValue)
    {
        Assert.True(buffer.TryGetNext(maxLength, limit, out ulong offset, out int length, out bool fin));
        return (offset, length, fin);
    }

    [Fact]
    public void Append_IsBoundedByCapacity_AndAcknowledgementsFreeRoom()
    {
        var buffer = new SendBuffer(1000);
        Assert.Equal(1000, buffer.Append(new byte[1500]));
        Assert.Equal(0, buffer.Append(new byte[1]));

        Assert.Equal((0UL, 400, false), Next(buffer, 400));
        buffer.MarkSent(0, 400, false);
        buffer.OnAcked(0, 400, false);
        Assert.Equal(400, buffer.AvailableCapacity);
        Assert.Equal(400, buffer.Append(new byte[500]));
        Assert.Equal(1400UL, buffer.WrittenLength);
    }

    [Fact]
    public void NewData_RespectsTheFlowControlLimit_RetransmissionsDoNot()
    {
        var buffer = new SendBuffer(10_000);
        buffer.Append(new byte[1000]);
        Assert.Equal((0UL, 300, false), Next(buffer, limit: 300));
        buffer.MarkSent(0, 300, false);
        Assert.False(buffer.TryGetNext(1000, 300, out _, out _, out _));

        buffer.OnLost(0, 300, false);
        Assert.Equal((0UL, 300, false), Next(buffer, limit: 0));
    }

    [Fact]
    public void LostRanges_AreResentLowestFirst_BeforeNewData_AndOnlyTheUnacknowledgedParts()
    {
        var buffer = new SendBuffer(10_000);
        buffer.Append(new byte[1000]);
        buffer.MarkSent(0, 100, false);
        buffer.MarkSent(100, 100, false);
        buffer.MarkSent(200, 100, false);
        buffer.OnAcked(120, 30, false);   // a later, smaller retransmission was acknowledged
        buffer.OnLost(200, 100, false);
        buffer.OnLost(100, 100, false);

        Assert.Equal((100UL, 20, false), Next(buffer));
        buffer.MarkSent(100, 20, false);
        Assert.Equal((150UL, 40, false), Next(buffer, 40));
        buffer.MarkSent(150, 40, false);
        Assert.Equal((190UL, 110, false), Next(buffer));
        buffer.MarkSent(190, 110, false);
        Assert.Equal((300UL, 700, false), Next(buffer));
    }

    [Fact]
    public void CopyTo_SpansChunks()
    {
        byte[] data = Pattern(PooledChunkStore.ChunkSize * 2 + 10);
        var buffer = new SendBuffer(1 << 20);
        buffer.Append(data.AsSpan(0, 100));
        buffer.Append(data.AsSpan(100));
        var copy = new byte[PooledChunkStore.ChunkSize + 2];
        buffer.CopyTo(PooledChunkStore.ChunkSize - 1, copy);
        Assert.Equal(data.AsSpan(PooledChunkStore.ChunkSize - 1, copy.Length).ToArray(), copy);
    }

    [Fact]
    public void Acknowledgements_ReturnChunksToThePool()
    {
        var buffer = new SendBuffer(1 << 20);
        buffer.Append(new byte[PooledChunkStore.ChunkSize * 3]);
        buffer.MarkSent(0, PooledChunkStore.ChunkSize * 3, false);
        Assert.Equal(3, buffer.RentedChunkCount);

        // Out-of-order acknowledgement frees nothing until the prefix is complete.
        buffer.OnAcked(PooledChunkStore.ChunkSize, PooledChunkStore.ChunkSize, false);
        Assert.Equal(3, buffer.RentedChunkCount);
        buffer.OnAcked(0, PooledChunkStore.ChunkSize, false);
        Assert.Equal(1, buffer.RentedChunkCount);
        buffer.OnAcked(2 * PooledChunkStore.ChunkSize, PooledChunkStore.ChunkSize, false);
        Assert.Equal(0, buffer.RentedChunkCount);
        Assert.Equal((ulong)PooledChunkStore.ChunkSize * 3, buffer.AcknowledgedLength);
    }

    [Fact]
    public void Fin_IsSentWithTheLastBytes_RetransmittedWhenLost_AndNeededForAllAcknowledged()
    {
        var buffer = new SendBuffer(1000);
        buffer.Append(new byte[10]);
        buffer.Finish();
        Assert.Equal((0UL, 6, false), Next(buffer, 6));
        buffer.MarkSent(0, 6, false);
        Assert.Equal((6UL, 4, true), Next(buffer));
        buffer.MarkSent(6, 4, true);
        Assert.False(buffer.HasPendingData);

        buffer.OnAcked(0, 10, false);
        Assert.False(buffer.AllAcknowledged);
        buffer.OnLost(6, 4, true);
        Assert.Equal((10UL, 0, true), Next(buffer));
        buffer.MarkSent(10, 0, true);
        buffer.OnAcked(10, 0, true);
        Assert.True(buffer.AllAcknowledged);
    }

    [Fact]
    public void FinOnly_NeedsNoFlowControlCredit()
    {
        var buffer = new SendBuffer(1000);
        buffer.Append(new byte[10]);
        buffer.MarkSent(0, 10, false);
        buffer.Finish();
        Assert.Equal((10UL, 0, true), Next(buffer, 0, limit: 10));
    }
}
