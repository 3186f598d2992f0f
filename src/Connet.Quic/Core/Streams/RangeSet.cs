namespace Connet.Quic.Core.Streams;

/// <summary>A half-open byte range [Start, End) of a stream.</summary>
internal readonly record struct ByteRange(ulong Start, ulong End)
{
    public ulong Length => End - Start;
}

/// <summary>
/// A set of stream offsets kept as sorted, disjoint, non-adjacent ranges. Stream buffers use it to track what was
/// received, acknowledged or lost; lookups are binary searches so a fragmented stream stays cheap to update.
/// </summary>
internal sealed class RangeSet
{
    private readonly List<ByteRange> _ranges = [];

    public int Count => _ranges.Count;

    public ByteRange this[int index] => _ranges[index];

    public bool IsEmpty => _ranges.Count == 0;

    public void Clear() => _ranges.Clear();

    /// <summary>Index of the first range whose end is at or after <paramref name="offset"/> (touching ranges merge).</summary>
    public int IndexOfFirstEndingAtOrAfter(ulong offset)
    {
        int low = 0;
        int high = _ranges.Count;
        while (low < high)
        {
            int middle = low + ((high - low) >> 1);
            if (_ranges[middle].End < offset)
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

    /// <summary>Index of the first range that ends strictly after <paramref name="offset"/> (i.e. may contain it).</summary>
    public int IndexOfFirstEndingAfter(ulong offset)
    {
        int index = IndexOfFirstEndingAtOrAfter(offset);
        while (index < _ranges.Count && _ranges[index].End == offset)
        {
            index++;
        }

        return index;
    }

    public void Add(ulong start, ulong end)
    {
        if (start >= end)
        {
            return;
        }

        int first = IndexOfFirstEndingAtOrAfter(start);
        int last = first;
        ulong mergedStart = start;
        ulong mergedEnd = end;
        while (last < _ranges.Count && _ranges[last].Start <= end)
        {
            mergedStart = Math.Min(mergedStart, _ranges[last].Start);
            mergedEnd = Math.Max(mergedEnd, _ranges[last].End);
            last++;
        }

        if (last - first == 1)
        {
            _ranges[first] = new ByteRange(mergedStart, mergedEnd);
            return;
        }

        _ranges.RemoveRange(first, last - first);
        _ranges.Insert(first, new ByteRange(mergedStart, mergedEnd));
    }

    public void Remove(ulong start, ulong end)
    {
        if (start >= end)
        {
            return;
        }

        int index = IndexOfFirstEndingAfter(start);
        while (index < _ranges.Count && _ranges[index].Start < end)
        {
            ByteRange range = _ranges[index];
            bool keepsHead = range.Start < start;
            bool keepsTail = range.End > end;
            if (keepsHead && keepsTail)
            {
                _ranges[index] = new ByteRange(range.Start, start);
                _ranges.Insert(index + 1, new ByteRange(end, range.End));
                return;
            }

            if (keepsHead)
            {
                _ranges[index] = new ByteRange(range.Start, start);
                index++;
            }
            else if (keepsTail)
            {
                _ranges[index] = new ByteRange(end, range.End);
                return;
            }
            else
            {
                _ranges.RemoveAt(index);
            }
        }
    }

    /// <summary>Drops everything below <paramref name="offset"/>.</summary>
    public void RemoveBelow(ulong offset)
    {
        if (_ranges.Count > 0 && _ranges[0].Start < offset)
        {
            Remove(_ranges[0].Start, offset);
        }
    }

    public bool Contains(ulong start, ulong end)
    {
        if (start >= end)
        {
            return true;
        }

        int index = IndexOfFirstEndingAfter(start);
        return index < _ranges.Count && _ranges[index].Start <= start && _ranges[index].End >= end;
    }
}
