using System.Collections.Concurrent;
using System.Net;

namespace Connet.Quic.Io;

/// <summary>
/// Datagrams written back to back into one buffer, all to one peer and all of the first one's size except possibly
/// the last: exactly what one UDP GSO send can carry. Lives on the stack of one drive.
/// </summary>
internal ref struct SendBatch(byte[] buffer)
{
    /// <summary>Room for a full drive of 1500-byte datagrams (32 of them) with space to spare.</summary>
    public const int BufferSize = 48 * 1024;

    private const int MaxPooledBuffers = 16;

    // Not ArrayPool.Shared: it caches per thread, and each client endpoint's receive thread dies with its buffer.
    private static readonly ConcurrentQueue<byte[]> Buffers = new();

    private readonly byte[] _buffer = buffer;
    private IPEndPoint? _destination;
    private int _segmentSize;
    private int _segments;

    /// <summary>Bytes queued; the next datagram is written right after them.</summary>
    public int Length { get; private set; }

    public static byte[] RentBuffer() => Buffers.TryDequeue(out byte[]? buffer) ? buffer : new byte[BufferSize];

    public static void ReturnBuffer(byte[] buffer)
    {
        if (Buffers.Count < MaxPooledBuffers)
        {
            Buffers.Enqueue(buffer);
        }
    }

    /// <summary>Takes the <paramref name="length"/> bytes just written at <see cref="Length"/> into the batch.</summary>
    public void Add(EndpointDriver endpoint, int length, IPEndPoint destination)
    {
        if (Length > 0 && (length > _segmentSize || !destination.Equals(_destination)))
        {
            // It cannot join what is queued: send that, then start over with this datagram at the front.
            Send(endpoint);
            _buffer.AsSpan(Length, length).CopyTo(_buffer);
            Length = 0;
            _segments = 0;
        }

        if (Length == 0)
        {
            _destination = destination;
            _segmentSize = length;
        }

        Length += length;
        _segments++;

        // A shorter datagram can only be a batch's last one.
        if (length < _segmentSize || _segments == LinuxUdp.MaxSegments)
        {
            Flush(endpoint);
        }
    }

    public void Flush(EndpointDriver endpoint)
    {
        if (Length > 0)
        {
            Send(endpoint);
            Length = 0;
            _segments = 0;
        }
    }

    private readonly void Send(EndpointDriver endpoint) => endpoint.SendSegments(_buffer.AsSpan(0, Length), _segmentSize, _destination!);
}
