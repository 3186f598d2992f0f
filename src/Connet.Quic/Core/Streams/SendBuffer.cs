namespace Connet.Quic.Core.Streams;

/// <summary>
/// Outgoing bytes of one stream (or of one CRYPTO level, which simply never calls <see cref="Finish"/>).
/// The application appends; the packet builder takes ranges with <see cref="TryGetNext"/>; acknowledgements release
/// memory and losses re-queue whatever part of a range is still unacknowledged. Retransmissions are served before new
/// data and need no flow-control credit because the peer already counted those bytes.
/// </summary>
internal sealed class SendBuffer
{
    private readonly int _capacity;
    private readonly PooledChunkStore _store = new();
    private readonly RangeSet _lost = new();

    // Acknowledged ranges above _acknowledgedPrefix; everything below the prefix is acknowledged and released.
    private readonly RangeSet _acknowledged = new();
    private ulong _acknowledgedPrefix;
    private ulong _sentEnd;
    private bool _finSent;
    private bool _finAcknowledged;
    private bool _finLost;
    private bool _isDiscarded;

    public SendBuffer(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    /// <summary>Bytes appended so far (the stream's length once finished).</summary>
    public ulong WrittenLength { get; private set; }

    public bool IsFinished { get; private set; }

    /// <summary>The highest offset ever sent: the final size a RESET_STREAM must carry.</summary>
    public ulong SentLength => _sentEnd;

    /// <summary>Everything below this offset is acknowledged.</summary>
    public ulong AcknowledgedLength => _acknowledgedPrefix;

    /// <summary>Bytes held (appended but not yet acknowledged in order).</summary>
    public int BufferedLength => (int)(WrittenLength - _acknowledgedPrefix);

    public int AvailableCapacity => Math.Max(0, _capacity - BufferedLength);

    /// <summary>Pooled chunks in use; drops as data is acknowledged.</summary>
    public int RentedChunkCount => _store.RentedChunkCount;

    public bool AllAcknowledged => IsFinished && _finAcknowledged && _acknowledgedPrefix == WrittenLength;

    public bool HasLostData => !_lost.IsEmpty || _finLost;

    public bool HasUnsentData => !_isDiscarded && (_sentEnd < WrittenLength || (IsFinished && !_finSent));

    public bool HasPendingData => HasLostData || HasUnsentData;

    public int Append(ReadOnlySpan<byte> data)
    {
        if (IsFinished)
        {
            throw new InvalidOperationException("The stream was already finished.");
        }

        int accepted = Math.Min(data.Length, AvailableCapacity);
        _store.Write(WrittenLength, data[..accepted]);
        WrittenLength += (ulong)accepted;
        return accepted;
    }

    public void Finish() => IsFinished = true;

    /// <summary>
    /// The next range to send: the lowest lost range first, then new bytes up to <paramref name="newDataLimit"/>
    /// (the flow-control limit, as a stream offset). A FIN with no data is returned as a zero-length range.
    /// </summary>
    public bool TryGetNext(int maxLength, ulong newDataLimit, out ulong offset, out int length, out bool fin)
    {
        int room = Math.Max(0, maxLength);
        if (_isDiscarded)
        {
            offset = 0;
            length = 0;
            fin = false;
            return false;
        }

        if (!_lost.IsEmpty)
        {
            ByteRange range = _lost[0];
            offset = range.Start;
            length = (int)Math.Min(range.Length, (ulong)room);
            fin = _finLost && range.End == WrittenLength && length == (int)range.Length;
            return length > 0;
        }

        if (_finLost)
        {
            offset = WrittenLength;
            length = 0;
            fin = true;
            return true;
        }

        offset = _sentEnd;
        ulong end = Math.Min(WrittenLength, newDataLimit);
        ulong available = end > _sentEnd ? end - _sentEnd : 0;
        length = (int)Math.Min(available, (ulong)room);
        fin = IsFinished && !_finSent && _sentEnd + (ulong)length == WrittenLength;
        return length > 0 || fin;
    }

    public void CopyTo(ulong offset, Span<byte> destination)
    {
        if (offset < _acknowledgedPrefix || offset + (ulong)destination.Length > WrittenLength)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "The range is not buffered.");
        }

        _store.CopyTo(offset, destination);
    }

    public void MarkSent(ulong offset, int length, bool fin)
    {
        ulong end = offset + (ulong)length;
        if (end > WrittenLength || offset > _sentEnd)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "The range was never handed out.");
        }

        if (fin && (!IsFinished || end != WrittenLength))
        {
            throw new ArgumentException("FIN can only follow the last byte of a finished stream.", nameof(fin));
        }

        _sentEnd = Math.Max(_sentEnd, end);
        _lost.Remove(offset, end);
        if (fin)
        {
            _finSent = true;
            _finLost = false;
        }
    }

    public void OnAcked(ulong offset, int length, bool fin)
    {
        ulong end = Math.Min(offset + (ulong)length, _sentEnd);
        if (offset < end)
        {
            _acknowledged.Add(offset, end);
            _lost.Remove(offset, end);
            if (_acknowledged[0].Start <= _acknowledgedPrefix)
            {
                _acknowledgedPrefix = Math.Max(_acknowledgedPrefix, _acknowledged[0].End);
                _acknowledged.RemoveBelow(_acknowledgedPrefix);
                _store.ReleaseBelow(_acknowledgedPrefix);
            }
        }

        if (fin && _finSent)
        {
            _finAcknowledged = true;
            _finLost = false;
        }
    }

    public void OnLost(ulong offset, int length, bool fin)
    {
        if (_isDiscarded)
        {
            return;
        }

        ulong start = Math.Max(offset, _acknowledgedPrefix);
        ulong end = Math.Min(offset + (ulong)length, _sentEnd);
        if (start < end)
        {
            _lost.Add(start, end);
            for (int index = _acknowledged.IndexOfFirstEndingAfter(start); index < _acknowledged.Count && _acknowledged[index].Start < end; index++)
            {
                _lost.Remove(_acknowledged[index].Start, _acknowledged[index].End);
            }
        }

        if (fin && _finSent && !_finAcknowledged)
        {
            _finLost = true;
        }
    }

    /// <summary>Abandons all data (stream reset): returns the memory and stops offering ranges.</summary>
    public void Discard()
    {
        _store.Clear();
        _lost.Clear();
        _acknowledged.Clear();
        _finLost = false;
        _isDiscarded = true;
    }
}
