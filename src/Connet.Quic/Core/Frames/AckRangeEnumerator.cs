using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Frames;

/// <summary>
/// Walks an <see cref="AckFrame"/>'s ranges from the highest down without allocating. The bytes were validated by
/// <see cref="AckFrame.Decode"/>, so no step can underflow or run short.
/// </summary>
internal ref struct AckRangeEnumerator
{
    private ReadOnlySpan<byte> _remaining;
    private readonly ulong _firstLargest;
    private readonly ulong _firstRange;
    private bool _started;

    internal AckRangeEnumerator(ulong largestAcknowledged, ulong firstAckRange, ReadOnlySpan<byte> rangesBytes)
    {
        _firstLargest = largestAcknowledged;
        _firstRange = firstAckRange;
        _remaining = rangesBytes;
        _started = false;
        Current = default;
    }

    public AckRange Current { get; private set; }

    public readonly AckRangeEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (!_started)
        {
            _started = true;
            Current = new AckRange(_firstLargest - _firstRange, _firstLargest);
            return true;
        }

        if (_remaining.IsEmpty)
        {
            return false;
        }

        VarInt.TryRead(_remaining, out ulong gap, out int gapLength);
        VarInt.TryRead(_remaining[gapLength..], out ulong length, out int lengthLength);
        _remaining = _remaining[(gapLength + lengthLength)..];
        ulong largest = Current.Smallest - gap - 2;
        Current = new AckRange(largest - length, largest);
        return true;
    }
}
