namespace Connet.Quic.Core.Endpoint;

/// <summary>
/// A token bucket bounding how many stateless resets we send (RFC 9000 §10.3: an endpoint should limit them),
/// so spoofed short headers cannot turn the endpoint into a packet cannon.
/// </summary>
internal sealed class ResetRateLimiter(int perSecond)
{
    private readonly double _capacity = Math.Max(1, perSecond);
    private double _tokens = Math.Max(1, perSecond);
    private Instant _lastRefill = Instant.Zero;
    private bool _started;

    public bool TryTake(Instant now)
    {
        if (!_started)
        {
            _started = true;
            _lastRefill = now;
        }
        else if (now > _lastRefill)
        {
            _tokens = Math.Min(_capacity, _tokens + ((now - _lastRefill).TotalSeconds * _capacity));
            _lastRefill = now;
        }

        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}
