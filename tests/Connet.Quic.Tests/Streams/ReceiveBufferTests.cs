using Connet.Quic.Core;
using Connet.Quic.Core.Streams;

namespace Connet.Quic.Tests.Streams;

public class ReceiveBufferTests
{
    private static byte[] Pattern(int length, int seed = 0) => Enumerable.Range(seed, length).Select(i => (byte)(i * 31 + 7)).ToArray();

    private static byte[] ReadAll(ReceiveBuffer buffer)
    {
        var result = new List<byte>();
        var chunk = new byte[333];
        int read;
        while ((read = buffer.Read(chunk)) > 0)
        {
            result.AddRange(chunk.AsSpan(0, read).ToArray());
        }

        return [.. result];
    }

    [Fact]
    public void InOrderData_IsReadBack()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        byte[] data = Pattern(10_000);
        buffer.Insert(0, data.AsSpan(0, 6000), 20_000);
        buffer.Insert(6000, data.AsSpan(6000), 20_000);

        Assert.Equal(10_000, buffer.ContiguousLength);
        Assert.Equal(data, ReadAll(buffer));
        Assert.Equal(10_000UL, buffer.ReadOffset);
        Assert.Equal(0, buffer.ContiguousLength);
    }

    [Fact]
    public void OutOfOrderData_BecomesReadableOnlyWhenTheGapFills()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        byte[] data = Pattern(300);
        buffer.Insert(200, data.AsSpan(200), 1000);
        buffer.Insert(100, data.AsSpan(100, 100), 1000);
        Assert.Equal(0, buffer.ContiguousLength);
        Assert.Equal(0, buffer.Read(new byte[10]));

        buffer.Insert(0, data.AsSpan(0, 100), 1000);
        Assert.Equal(300, buffer.ContiguousLength);
        Assert.Equal(data, ReadAll(buffer));
    }

    [Fact]
    public void OverlappingData_KeepsTheFirstCopyAndFillsOnlyGaps()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        byte[] data = Pattern(100);
        buffer.Insert(10, data.AsSpan(10, 10), 1000);
        buffer.Insert(40, data.AsSpan(40, 10), 1000);

        // A frame spanning both islands with different bytes: only the gaps take its content.
        byte[] spanning = Enumerable.Repeat((byte)0xEE, 60).ToArray();
        buffer.Insert(0, spanning, 1000);

        byte[] read = ReadAll(buffer);
        Assert.Equal(60, read.Length);
        Assert.Equal(data.AsSpan(10, 10).ToArray(), read.AsSpan(10, 10).ToArray());
        Assert.Equal(data.AsSpan(40, 10).ToArray(), read.AsSpan(40, 10).ToArray());
        Assert.All(read.AsSpan(0, 10).ToArray(), b => Assert.Equal(0xEE, b));
        Assert.All(read.AsSpan(20, 20).ToArray(), b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void DuplicateAndAlreadyReadData_AreIgnored()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        byte[] data = Pattern(50);
        buffer.Insert(0, data, 100);
        Assert.Equal(30, buffer.Read(new byte[30]));

        buffer.Insert(0, data, 100);
        buffer.Insert(10, data.AsSpan(10, 30), 100);

        Assert.Equal(20, buffer.ContiguousLength);
        Assert.Equal(data.AsSpan(30).ToArray(), ReadAll(buffer));
        Assert.Equal(50UL, buffer.HighestReceived);
    }

    [Fact]
    public void RandomFragments_ReassembleExactly()
    {
        var random = new Random(1234);
        byte[] data = Pattern(50_000, 3);
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        var output = new List<byte>();
        for (int round = 0; round < 2000 && output.Count < data.Length; round++)
        {
            int offset = random.Next(data.Length);
            int length = Math.Min(random.Next(1, 1500), data.Length - offset);
            buffer.Insert((ulong)offset, data.AsSpan(offset, length), (ulong)data.Length);
            if (random.Next(4) == 0)
            {
                output.AddRange(ReadAll(buffer));
            }
        }

        buffer.Insert(0, data, (ulong)data.Length);
        output.AddRange(ReadAll(buffer));
        Assert.Equal(data, output.ToArray());

        // Only the chunk holding the read offset may remain.
        Assert.True(buffer.RentedChunkCount <= 1);
    }

    [Fact]
    public void DataBeyondTheLimit_ThrowsTheCodeGivenAtConstruction()
    {
        var crypto = new ReceiveBuffer(TransportErrorCode.CryptoBufferExceeded);
        crypto.Insert(0, new byte[100], 100);
        var error = Assert.Throws<QuicProtocolException>(() => crypto.Insert(100, new byte[1], 100));
        Assert.Equal(TransportErrorCode.CryptoBufferExceeded, error.Code);

        var stream = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        error = Assert.Throws<QuicProtocolException>(() => stream.Insert(ulong.MaxValue - 1, new byte[4], ulong.MaxValue));
        Assert.Equal(TransportErrorCode.FlowControlError, error.Code);
    }

    [Fact]
    public void FinalSize_DataBeyondIt_IsFinalSizeError()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        buffer.Insert(0, new byte[10], 100);
        buffer.SetFinalSize(10);
        var error = Assert.Throws<QuicProtocolException>(() => buffer.Insert(5, new byte[6], 100));
        Assert.Equal(TransportErrorCode.FinalSizeError, error.Code);
    }

    [Fact]
    public void FinalSize_BelowReceivedData_IsFinalSizeError()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        buffer.Insert(20, new byte[10], 100);
        var error = Assert.Throws<QuicProtocolException>(() => buffer.SetFinalSize(29));
        Assert.Equal(TransportErrorCode.FinalSizeError, error.Code);
    }

    [Fact]
    public void FinalSize_ThatChanges_IsFinalSizeError_ButRepeatingItIsFine()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        buffer.SetFinalSize(40);
        buffer.SetFinalSize(40);
        Assert.Equal(TransportErrorCode.FinalSizeError, Assert.Throws<QuicProtocolException>(() => buffer.SetFinalSize(41)).Code);
        Assert.Equal(TransportErrorCode.FinalSizeError, Assert.Throws<QuicProtocolException>(() => buffer.SetFinalSize(39)).Code);
    }

    [Fact]
    public void IsComplete_OnlyAfterEverythingUpToTheFinalSizeIsRead()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        buffer.SetFinalSize(20);
        buffer.Insert(10, new byte[10], 100);
        Assert.False(buffer.IsFullyReceived);
        buffer.Insert(0, new byte[10], 100);
        Assert.True(buffer.IsFullyReceived);
        Assert.False(buffer.IsComplete);
        Assert.Equal(20, buffer.Read(new byte[64]));
        Assert.True(buffer.IsComplete);
    }

    [Fact]
    public void ReadingReleasesPooledChunks()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        buffer.Insert(0, new byte[PooledChunkStore.ChunkSize * 3], 1 << 20);
        Assert.Equal(3, buffer.RentedChunkCount);
        buffer.Read(new byte[PooledChunkStore.ChunkSize + 1]);
        Assert.Equal(2, buffer.RentedChunkCount);
        buffer.Read(new byte[PooledChunkStore.ChunkSize * 3]);
        Assert.Equal(0, buffer.RentedChunkCount);
    }

    [Fact]
    public void Discarded_FreesMemoryButStillValidatesOffsets()
    {
        var buffer = new ReceiveBuffer(TransportErrorCode.FlowControlError);
        buffer.Insert(0, new byte[5000], 10_000);
        buffer.Discard();
        Assert.Equal(0, buffer.RentedChunkCount);

        buffer.Insert(5000, new byte[1000], 10_000);
        Assert.Equal(0, buffer.RentedChunkCount);
        Assert.Equal(6000UL, buffer.HighestReceived);
        Assert.Equal(0, buffer.Read(new byte[10]));
        Assert.Equal(TransportErrorCode.FlowControlError, Assert.Throws<QuicProtocolException>(() => buffer.Insert(9000, new byte[1001], 10_000)).Code);
        buffer.SetFinalSize(6000);
        Assert.Equal(TransportErrorCode.FinalSizeError, Assert.Throws<QuicProtocolException>(() => buffer.Insert(6000, new byte[1], 10_000)).Code);
    }
}
