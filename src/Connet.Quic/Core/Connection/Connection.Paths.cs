using System.Net;

namespace Connet.Quic.Core.Connection;

/// <summary>
/// The network path: anti-amplification before address validation (RFC 9000 §8.1) and path validation when the
/// peer's address changes, e.g. a NAT rebinding (§8.2, §9).
/// </summary>
internal sealed partial class Connection
{
    private PathState _path;
    private PathState? _previousPath;
    /// <summary>Challenges arriving faster than we send are each answered (§8.2.2), up to a small bound.</summary>
    private const int MaxPendingPathResponses = 4;

    private readonly Queue<PendingPathResponse> _pathResponses = new();

    internal int PathValidations { get; private set; }

    /// <summary>Bytes we may still send on the current path before the peer's address is validated.</summary>
    private long AmplificationBudget => _path.Validated ? long.MaxValue : (3 * _path.BytesReceived) - _path.BytesSent;

    private void OnPeerAddressValidated()
    {
        _path.Validated = true;
        UpdateAmplificationBlocked();
    }

    /// <summary>A server that may not send must not run its PTO either (RFC 9002 §6.2.2.1).</summary>
    private void UpdateAmplificationBlocked()
    {
        if (!IsClient)
        {
            _loss.SetServerAmplificationBlocked(AmplificationBudget < MinimumDatagramSize);
        }
    }

    /// <summary>A non-probing packet with the highest packet number came from a new address: move there and validate it (§9.3).</summary>
    private void MigrateTo(IPEndPoint remote, Instant now)
    {
        bool portOnly = remote.Address.Equals(_path.Remote.Address);
        _previousPath = _path.Validated ? _path : _previousPath;
        _path = new PathState(remote, validated: false) { NewNetwork = !portOnly };
        StartPathValidation(now);
    }

    private void StartPathValidation(Instant now)
    {
        _path.ChallengeData = _random.NextUInt64();
        _path.ChallengePending = true;

        // RFC 9000 §8.2.4: give up after max(3 PTO, 6 initial RTTs); a lost challenge is sent again meanwhile.
        _path.ValidationDeadline = now + Max(3 * _rtt.ProbeTimeout(TimeSpan.Zero), 6 * TimeSpan.FromMilliseconds(333));
        _path.ChallengeResendAt = now + _rtt.ProbeTimeout(TimeSpan.Zero);
        PathValidations++;
    }

    private void OnPathChallenge(ulong data, IPEndPoint from, int datagramLength)
    {
        if (_pathResponses.Count < MaxPendingPathResponses)
        {
            // An unvalidated address gets at most three times what it sent us (§8.2.2 with §8.1's limit).
            _pathResponses.Enqueue(new PendingPathResponse(data, from, 3L * datagramLength));
        }
    }

    private void OnPathResponse(ulong data)
    {
        if (_path.ChallengeData is { } expected && expected == data)
        {
            _path.Validated = true;
            _path.ChallengeData = null;
            _path.ChallengePending = false;
            _path.ValidationDeadline = Instant.Never;
            _path.ChallengeResendAt = Instant.Never;
            _previousPath = null;
            if (_path.NewNetwork)
            {
                // What we learnt about the old network says nothing about this one (RFC 9000 §9.4); a NAT rebinding keeps it.
                _rtt.Reset();
                _congestion.ResetForNewPath();
            }
        }
    }

    private void OnChallengeResendDue(Instant now)
    {
        _path.ChallengePending = true;
        _path.ChallengeResendAt = now + (2 * _rtt.ProbeTimeout(TimeSpan.Zero));
    }

    private void OnPathValidationTimeout()
    {
        if (_previousPath is not null)
        {
            // The new address never answered: fall back to the last validated one (§9.3.2).
            _path = _previousPath;
            _previousPath = null;
        }
        else
        {
            _path.ValidationDeadline = Instant.Never;
            _path.ChallengeResendAt = Instant.Never;
            _path.ChallengeData = null;
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a >= b ? a : b;

    private sealed class PathState(IPEndPoint remote, bool validated)
    {
        public IPEndPoint Remote { get; } = remote;

        public bool Validated { get; set; } = validated;

        public long BytesReceived { get; set; }

        public long BytesSent { get; set; }

        public ulong? ChallengeData { get; set; }

        /// <summary>A PATH_CHALLENGE with <see cref="ChallengeData"/> still has to go out.</summary>
        public bool ChallengePending { get; set; }

        public Instant ValidationDeadline { get; set; } = Instant.Never;

        public Instant ChallengeResendAt { get; set; } = Instant.Never;

        /// <summary>The peer's IP address changed, not just its port: congestion state starts over once validated.</summary>
        public bool NewNetwork { get; init; }
    }

    private readonly record struct PendingPathResponse(ulong Data, IPEndPoint Destination, long Budget);
}
