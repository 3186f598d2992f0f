using Connet.Core.Runtime;

namespace Connet.Core.Tests.Runtime;

public sealed class BackoffTests
{
    [Fact]
    public void Delays_StayWithinBoundsAndGrowAtMostThreefold()
    {
        var minimum = TimeSpan.FromMilliseconds(10);
        var maximum = TimeSpan.FromSeconds(15);
        var backoff = new Backoff(minimum, maximum);
        TimeSpan previous = backoff.Next();
        Assert.Equal(minimum, previous);

        for (int attempt = 0; attempt < 200; attempt++)
        {
            TimeSpan next = backoff.Next();
            Assert.InRange(next, minimum, maximum);
            Assert.True(next <= previous * 3, $"{next} is more than three times {previous}");
            previous = next;
        }
    }

    [Fact]
    public void Reset_StartsOverAtTheMinimum()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(15));
        for (int attempt = 0; attempt < 20; attempt++)
        {
            backoff.Next();
        }

        backoff.Reset();

        Assert.Equal(TimeSpan.FromMilliseconds(10), backoff.Next());
    }
}
