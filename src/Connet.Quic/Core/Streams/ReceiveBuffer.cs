namespace Connet.Quic.Core.Streams;

/// <summary>
/// Incoming bytes of one stream or CRYPTO level: out-of-order reassembly where duplicates and overlaps keep the first
/// copy. Data is bounded by the <c>limit</c> passed with each insert (the advertised window), so a peer can never
/// make this hold more than the window. Once <see cref="Discard"/>ed (reset or stop), it only validates offsets and
/// the final size (RFC 9000 §4.5).
/// </summary>
internal sealed class ReceiveBuffer
{
    private readonly TransportErrorCode _overflowError;
    private readonly PooledChunkStore _store = new();

    // Received ranges at or above ReadOffset.
    private readonly RangeSet _received = new();

    public ReceiveBuffer(TransportErrorCode overflowError) => _overflowError = overflowError;

    public ulong ReadOffset { get; private set; }

    /// <summary>The largest end offset seen in any frame (drives connection-level flow control, §4.5).</summary>
    public ulong HighestReceived { get; private set; }

    public ulong? FinalSize { get; private set; }

    /// <summary>Everything up to the final size was read.</summary>
    public bool IsComplete => FinalSize is ulong finalSize && ReadOffset == finalSize;

    /// <summary>Every byte up to the final size arrived (it may not all be read yet).</summary>
    public bool IsFullyReceived => FinalSize is ulong finalSize && ReadOffset + (ulong)ContiguousLength == finalSize;

    public bool IsDiscarding { get; private set; }

    public int RentedChunkCount => _store.RentedChunkCount;

    /// <summary>Bytes readable now, starting at <see cref="ReadOffset"/>.</summary>
    public int ContiguousLength =>
        !_received.IsEmpty && _received[0].Start <= ReadOffset
            ? (int)Math.Min(_received[0].End - ReadOffset, int.MaxValue)
            : 0;

    public void Insert(ulong offset, ReadOnlySpan<byte> data, ulong limit)
    {
        ulong length = (ulong)data.Length;
        if (offset > limit || length > limit - offset)
        {
            throw new QuicProtocolException(_overflowError, $"Data up to offset {offset + length} exceeds the limit {limit}.");
        }

        ulong end = offset + length;
        if (FinalSize is ulong finalSize && end > finalSize)
        {
            throw new QuicProtocolException(TransportErrorCode.FinalSizeError, $"Data up to offset {end} is beyond the final size {finalSize}.");
        }

        HighestReceived = Math.Max(HighestReceived, end);
        ulong start = Math.Max(offset, ReadOffset);
        if (IsDiscarding || start >= end)
        {
            return;
        }

        // Copy only the gaps so bytes already received (and possibly already handed out) stay as first seen.
        ulong cursor = start;
        for (int index = _received.IndexOfFirstEndingAfter(start); cursor < end; index++)
        {
            bool hasRange = index < _received.Count;
            ulong gapEnd = hasRange ? Math.Min(end, _received[index].Start) : end;
            if (gapEnd > cursor)
            {
                _store.Write(cursor, data.Slice((int)(cursor - offset), (int)(gapEnd - cursor)));
            }

            if (!hasRange)
            {
                break;
            }

            cursor = Math.Max(cursor, _received[index].End);
        }

        _received.Add(start, end);
    }

    public void SetFinalSize(ulong finalSize)
    {
        if (FinalSize is ulong known)
        {
            if (known != finalSize)
            {
                throw new QuicProtocolException(TransportErrorCode.FinalSizeError, $"Final size changed from {known} to {finalSize}.");
            }

            return;
        }

        if (finalSize < HighestReceived)
        {
            throw new QuicProtocolException(TransportErrorCode.FinalSizeError, $"Final size {finalSize} is below received data up to {HighestReceived}.");
        }

        FinalSize = finalSize;
    }

    public int Read(Span<byte> destination)
    {
        int count = Math.Min(destination.Length, ContiguousLength);
        if (count == 0)
        {
            return 0;
        }

        _store.CopyTo(ReadOffset, destination[..count]);
        ReadOffset += (ulong)count;
        _received.RemoveBelow(ReadOffset);
        _store.ReleaseBelow(ReadOffset);
        return count;
    }

    /// <summary>Drops buffered data and all future data; offsets and the final size are still checked.</summary>
    public void Discard()
    {
        IsDiscarding = true;
        _store.Clear();
        _received.Clear();
    }
}
