using System.Buffers;

namespace Connet.Quic.Core.Streams;

/// <summary>
/// Bytes of a stream addressed by absolute offset, held in fixed-size chunks rented from <see cref="ArrayPool{T}"/>.
/// Chunks are rented on first write and returned as soon as everything below them is released, so memory follows
/// the live window (unacknowledged or unread bytes), not the stream's length.
/// </summary>
internal sealed class PooledChunkStore
{
    public const int ChunkSize = 4096;

    // Chunks are rented on the sending thread and returned on whichever thread processes the ACK; the shared pool's
    // per-thread caches then miss almost every time, so stream data gets a pool of its own (up to 16 MiB kept).
    private static readonly ArrayPool<byte> ChunkPool = ArrayPool<byte>.Create(ChunkSize, 4096);

    private readonly List<byte[]?> _chunks = [];

    // _chunks[_head] holds chunk number _baseChunk; slots before _head were released and await compaction.
    private int _head;
    private ulong _baseChunk;

    /// <summary>Chunks currently rented (for tests and diagnostics).</summary>
    public int RentedChunkCount { get; private set; }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int slot = SlotOf(offset);
            while (_chunks.Count <= slot)
            {
                _chunks.Add(null);
            }

            byte[]? chunk = _chunks[slot];
            if (chunk is null)
            {
                chunk = ChunkPool.Rent(ChunkSize);
                _chunks[slot] = chunk;
                RentedChunkCount++;
            }

            int within = (int)(offset % ChunkSize);
            int count = Math.Min(ChunkSize - within, data.Length);
            data[..count].CopyTo(chunk.AsSpan(within, count));
            data = data[count..];
            offset += (ulong)count;
        }
    }

    public void CopyTo(ulong offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int slot = SlotOf(offset);
            byte[] chunk = (slot < _chunks.Count ? _chunks[slot] : null)
                ?? throw new InvalidOperationException($"Offset {offset} is not buffered.");
            int within = (int)(offset % ChunkSize);
            int count = Math.Min(ChunkSize - within, destination.Length);
            chunk.AsSpan(within, count).CopyTo(destination);
            destination = destination[count..];
            offset += (ulong)count;
        }
    }

    /// <summary>Returns every chunk that lies entirely below <paramref name="offset"/> to the pool.</summary>
    public void ReleaseBelow(ulong offset)
    {
        ulong firstKeptChunk = offset / ChunkSize;
        while (_baseChunk < firstKeptChunk && _head < _chunks.Count)
        {
            ReturnSlot(_head);
            _head++;
            _baseChunk++;
        }

        if (_head == _chunks.Count)
        {
            // Nothing buffered: jump straight to the new base instead of walking (possibly huge) empty gaps.
            _chunks.Clear();
            _head = 0;
            _baseChunk = Math.Max(_baseChunk, firstKeptChunk);
        }
        else if (_head >= 32 && _head * 2 >= _chunks.Count)
        {
            _chunks.RemoveRange(0, _head);
            _head = 0;
        }
    }

    public void Clear()
    {
        for (int slot = _head; slot < _chunks.Count; slot++)
        {
            ReturnSlot(slot);
        }

        _chunks.Clear();
        _head = 0;
    }

    private int SlotOf(ulong offset)
    {
        ulong chunkNumber = offset / ChunkSize;
        if (chunkNumber < _baseChunk)
        {
            throw new InvalidOperationException($"Offset {offset} was already released.");
        }

        // Callers bound offsets by their window, so the distance always fits.
        return checked(_head + (int)(chunkNumber - _baseChunk));
    }

    private void ReturnSlot(int slot)
    {
        byte[]? chunk = _chunks[slot];
        if (chunk is not null)
        {
            ChunkPool.Return(chunk);
            _chunks[slot] = null;
            RentedChunkCount--;
        }
    }
}
