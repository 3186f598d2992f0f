using System.Collections.Concurrent;
using Connet.Client.Peers;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.Peer;
using Connet.Quic;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Connet.Client.Tunnels.Sources;

/// <summary>One announced destination peer of a source endpoint and the paths to it: direct connections, then shared relays.</summary>
internal sealed record SourceDestination(string Id, IReadOnlyList<PeerConnection> Paths);

/// <summary>How a source picks destinations and paths (the endpoint's load-balancing options, validated).</summary>
internal sealed record TunnelOpenerOptions(
    ConnetLoadBalancePolicy Policy = ConnetLoadBalancePolicy.None,
    ConnetLoadBalanceRetry Retry = ConnetLoadBalanceRetry.Never,
    int RetryMax = 0,
    TimeSpan DialTimeout = default)
{
    /// <summary>Go connet's default for <c>lb-retry = "count"</c>: two further destinations.</summary>
    public const int DefaultRetryCount = 2;

    /// <summary>Go connet's default for <c>lb-retry = "timed"</c>: further destinations for one second.</summary>
    public const int DefaultRetryMilliseconds = 1000;

    /// <summary>
    /// The bound on one attempt when <see cref="DialTimeout"/> is zero: the destination answers only after dialing its
    /// target (bounded on its side), so a destination that never answers cannot hold clients forever.
    /// </summary>
    public static readonly TimeSpan DefaultAttemptTimeout = TimeSpan.FromSeconds(30);

    public static TunnelOpenerOptions From(ConnetEndpointOptions endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new(endpoint.LoadBalancePolicy, endpoint.LoadBalanceRetry, endpoint.LoadBalanceRetryMax, endpoint.DialTimeout);
    }

    public TimeSpan AttemptTimeout => DialTimeout > TimeSpan.Zero ? DialTimeout : DefaultAttemptTimeout;
}

/// <summary>
/// Opens the tunnel of one client connection for every kind of source listener. Without a policy every path is
/// tried in order (direct before relay, then lowest smoothed RTT; connet-protocol.md §2.4). With a policy
/// (least-latency, least-conns, round-robin, random) destination peers are ordered by it and tried one after another
/// as the retry option allows (never: one; count: one plus RetryMax, default 2; timed: further ones until RetryMax ms,
/// default 1000, have passed; all: every one), each destination's own paths direct first. Each attempt is bounded by
/// the dial timeout. Relayed paths reach whichever destination the relay picks (it orders by RTT, not by our choice).
/// </summary>
internal sealed partial class TunnelOpener
{
    private readonly Func<IReadOnlyList<SourceDestination>> _destinations;
    private readonly TunnelOpenerOptions _options;
    private readonly RelayEncryptionSettings? _relayEncryption;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<string, int> _openTunnels = new(StringComparer.Ordinal);
    private int _roundRobin = -1;

    /// <param name="destinations">The destination peers usable right now (read per client connection).</param>
    /// <param name="relayEncryption">Our relay encryption offer; without it relay paths are skipped.</param>
    public TunnelOpener(
        Func<IReadOnlyList<SourceDestination>> destinations,
        TunnelOpenerOptions? options = null,
        RelayEncryptionSettings? relayEncryption = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        _destinations = destinations;
        _options = options ?? new TunnelOpenerOptions();
        _relayEncryption = relayEncryption;
        _logger = logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>A single anonymous destination holding every path (the shape of sources started without peer grouping).</summary>
    public static Func<IReadOnlyList<SourceDestination>> Ungrouped(Func<IReadOnlyCollection<PeerConnection>> connections)
    {
        ArgumentNullException.ThrowIfNull(connections);
        return () => [new SourceDestination("*", [.. connections()])];
    }

    /// <summary>Tunnels currently open to <paramref name="destination"/> (least-connections' measure).</summary>
    public int OpenTunnels(string destination) => _openTunnels.TryGetValue(destination, out int count) ? count : 0;

    /// <summary>The tunnel on the first destination and path that works; null (after logging why) when none could be opened.</summary>
    /// <param name="client">Names the client connection in logs.</param>
    public async Task<SourceTunnel?> OpenAsync(string client, CancellationToken cancellationToken)
    {
        IReadOnlyList<SourceDestination> destinations = _destinations();
        if (_options.Policy == ConnetLoadBalancePolicy.None)
        {
            // Every path once, whichever peer it leads to.
            PeerConnection[] paths = Usable(destinations.SelectMany(destination => destination.Paths).Distinct());
            foreach (PeerConnection path in paths)
            {
                SourceTunnel? tunnel = await TryOpenAsync(client, path.ToString(), [path], cancellationToken).ConfigureAwait(false);
                if (tunnel is not null)
                {
                    return tunnel;
                }
            }

            Log.NoDestination(_logger, client, paths.Length);
            return null;
        }

        SourceDestination[] ordered = Order(destinations.Where(destination => Usable(destination.Paths).Length > 0));
        long started = _timeProvider.GetTimestamp();
        int attempts = 0;
        foreach (SourceDestination destination in ordered)
        {
            if (attempts > 0 && !MayRetry(attempts, started))
            {
                break;
            }

            attempts++;
            SourceTunnel? tunnel = await TryOpenAsync(client, destination.Id, Usable(destination.Paths), cancellationToken).ConfigureAwait(false);
            if (tunnel is not null)
            {
                return tunnel;
            }
        }

        Log.NoDestination(_logger, client, attempts);
        return null;
    }

    private bool MayRetry(int attempts, long started) => _options.Retry switch
    {
        ConnetLoadBalanceRetry.Never => false,
        ConnetLoadBalanceRetry.Count => attempts <= (_options.RetryMax > 0 ? _options.RetryMax : TunnelOpenerOptions.DefaultRetryCount),
        ConnetLoadBalanceRetry.Timed => _timeProvider.GetElapsedTime(started).TotalMilliseconds < (_options.RetryMax > 0 ? _options.RetryMax : TunnelOpenerOptions.DefaultRetryMilliseconds),
        _ => true,
    };

    private SourceDestination[] Order(IEnumerable<SourceDestination> destinations)
    {
        // A stable base order (by id) so round-robin rotates over the same sequence every time.
        SourceDestination[] byId = [.. destinations.OrderBy(destination => destination.Id, StringComparer.Ordinal)];
        switch (_options.Policy)
        {
            case ConnetLoadBalancePolicy.LeastLatency:
                return [.. byId.OrderBy(destination => Usable(destination.Paths)[0].Direction == PeerConnectionDirection.Relay).ThenBy(destination => Usable(destination.Paths)[0].SmoothedRtt)];
            case ConnetLoadBalancePolicy.LeastConnections:
                return [.. byId.OrderBy(destination => OpenTunnels(destination.Id))];
            case ConnetLoadBalancePolicy.RoundRobin when byId.Length > 0:
                int start = (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)byId.Length);
                return [.. byId[start..], .. byId[..start]];
            case ConnetLoadBalancePolicy.Random:
                Random.Shared.Shuffle(byId);
                return byId;
            default:
                return byId;
        }
    }

    /// <summary>The paths we can open tunnels on, direct before relay, then lowest smoothed RTT.</summary>
    private PeerConnection[] Usable(IEnumerable<PeerConnection> paths) =>
    [
        .. paths
            .Where(path => path.Direction != PeerConnectionDirection.Relay || _relayEncryption is not null)
            .OrderBy(path => path.Direction == PeerConnectionDirection.Relay)
            .ThenBy(path => path.SmoothedRtt),
    ];

    /// <summary>One attempt: the paths in order, all within one dial timeout; null after logging each failure.</summary>
    private async Task<SourceTunnel?> TryOpenAsync(string client, string destination, PeerConnection[] paths, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.AttemptTimeout);
        foreach (PeerConnection path in paths)
        {
            try
            {
                (Stream stream, ProxyProtoVersion proxyProtocol) = await PeerTunnel.OpenWithAnswerAsync(path, _relayEncryption, deadline.Token).ConfigureAwait(false);
                _openTunnels.AddOrUpdate(destination, 1, (_, count) => count + 1);
                Log.Opened(_logger, client, destination, path.ToString());
                return new SourceTunnel(stream, (ConnetProxyProtocol)proxyProtocol, $"{destination} via {path}", () => Release(destination));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Log.AttemptTimedOut(_logger, client, destination, _options.AttemptTimeout.TotalSeconds);
                return null;
            }
            catch (ConnetProtocolException exception)
            {
                // Refused on this path (the destination's target, or a relay that found no destination): another
                // path may reach another destination instance, or the same one directly.
                Log.DestinationRefused(_logger, client, path.ToString(), exception.Code, exception.Message);
            }
            catch (Exception exception) when (exception is QuicException or ObjectDisposedException or IOException)
            {
                // Closed or disposed since it was listed: the next one may still work.
                Log.PathUnusable(_logger, path.ToString(), exception.Message);
            }
        }

        return null;
    }

    private void Release(string destination)
    {
        while (_openTunnels.TryGetValue(destination, out int count))
        {
            bool updated = count <= 1
                ? _openTunnels.TryRemove(new KeyValuePair<string, int>(destination, count))
                : _openTunnels.TryUpdate(destination, count - 1, count);
            if (updated)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Tunnel for {Client} via {Path} refused by the destination ({Code}): {Reason}")]
        public static partial void DestinationRefused(ILogger logger, string client, string path, ConnetErrorCode code, string reason);

        [LoggerMessage(2, LogLevel.Error, "No usable peer connection for {Client} after {Attempts} attempt(s): no direct connection works and no relay is shared with a destination")]
        public static partial void NoDestination(ILogger logger, string client, int attempts);

        [LoggerMessage(3, LogLevel.Debug, "Path {Path} cannot open a tunnel: {Reason}")]
        public static partial void PathUnusable(ILogger logger, string path, string reason);

        [LoggerMessage(4, LogLevel.Error, "Tunnel for {Client} to {Destination} got no answer within {Seconds} s")]
        public static partial void AttemptTimedOut(ILogger logger, string client, string destination, double seconds);

        [LoggerMessage(5, LogLevel.Debug, "Tunnel for {Client} opened to {Destination} via {Path}")]
        public static partial void Opened(ILogger logger, string client, string destination, string path);
    }
}
