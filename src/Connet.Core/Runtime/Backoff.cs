namespace Connet.Core.Runtime;

/// <summary>
/// Jittered exponential backoff as Go connet's pkg/reliable: each delay is random between the minimum and three
/// times the previous one, capped.
/// </summary>
public sealed class Backoff(TimeSpan minimum, TimeSpan maximum)
{
    private TimeSpan _previous = TimeSpan.Zero;

    public TimeSpan Next()
    {
        TimeSpan upper = _previous == TimeSpan.Zero ? minimum : TimeSpan.FromTicks(Math.Min(maximum.Ticks, _previous.Ticks * 3));
        long ticks = upper <= minimum ? minimum.Ticks : Random.Shared.NextInt64(minimum.Ticks, upper.Ticks + 1);
        _previous = TimeSpan.FromTicks(Math.Max(ticks, minimum.Ticks));
        return _previous;
    }

    public void Reset() => _previous = TimeSpan.Zero;

    /// <summary>Waits the next delay; false when <paramref name="cancellationToken"/> ended the wait (the caller stops retrying).</summary>
    public async Task<bool> WaitAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Next(), timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
