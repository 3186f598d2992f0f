using Connet.Quic.Core.Streams;

namespace Connet.Quic.Tests.Streams;

public class RangeSetTests
{
    private static ByteRange[] Ranges(RangeSet set) => Enumerable.Range(0, set.Count).Select(i => set[i]).ToArray();

    [Fact]
    public void Add_MergesOverlappingAndTouchingRanges()
    {
        var set = new RangeSet();
        set.Add(10, 20);
        set.Add(30, 40);
        set.Add(50, 60);
        set.Add(20, 30);
        Assert.Equal([new ByteRange(10, 40), new ByteRange(50, 60)], Ranges(set));
        set.Add(0, 100);
        Assert.Equal([new ByteRange(0, 100)], Ranges(set));
    }

    [Fact]
    public void Remove_SplitsAndTrims()
    {
        var set = new RangeSet();
        set.Add(0, 100);
        set.Remove(40, 60);
        Assert.Equal([new ByteRange(0, 40), new ByteRange(60, 100)], Ranges(set));
        set.Remove(30, 70);
        Assert.Equal([new ByteRange(0, 30), new ByteRange(70, 100)], Ranges(set));
        set.RemoveBelow(80);
        Assert.Equal([new ByteRange(80, 100)], Ranges(set));
        Assert.True(set.Contains(85, 100));
        Assert.False(set.Contains(75, 90));
    }
}
