using System.Threading.Channels;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;

namespace Connet.Server.Control;

/// <summary>
/// The announcements of all clients over an <see cref="IControlStore"/>: serialises changes, tells the
/// watchers of an endpoint when its peer set changes, and runs the grace period of disconnected clients.
/// </summary>
internal sealed class PeerDirectory : IDisposable
{
    private readonly Lock _gate = new();
    private readonly IControlStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _expiry;
    private readonly Dictionary<string, HashSet<EndpointWatcher>> _watchers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _currentSessions = new(StringComparer.Ordinal);
    private readonly HashSet<ITimer> _expiryTimers = [];
    private long _lastSession;
    private bool _disposed;

    public PeerDirectory(IControlStore store, TimeProvider timeProvider, TimeSpan expiry)
    {
        _store = store;
        _timeProvider = timeProvider;
        _expiry = expiry;
        ExpireLoadedPeers();
    }

    /// <summary>
    /// Marks <paramref name="clientId"/> connected through a new session and revives announcements left by an
    /// earlier connection of the same client (a reconnect within the grace period).
    /// </summary>
    public long Attach(string clientId)
    {
        lock (_gate)
        {
            var session = ++_lastSession;
            _currentSessions[clientId] = session;
            foreach (var peer in _store.GetPeers())
            {
                if (peer.Key.ClientId == clientId && peer.ExpiresAt is not null)
                {
                    _store.PutPeer(peer with { ExpiresAt = null });
                }
            }

            return session;
        }
    }

    /// <summary>
    /// The session's connection ended. Unless the client has since reconnected, its announcements stay for the
    /// grace period and then go (watchers notified); with no grace period they go at once.
    /// </summary>
    public void Detach(string clientId, long session)
    {
        lock (_gate)
        {
            if (_disposed || !_currentSessions.TryGetValue(clientId, out var current) || current != session)
            {
                return;
            }

            _currentSessions.Remove(clientId);
            if (_expiry == TimeSpan.Zero)
            {
                RemoveWhereLocked(peer => peer.Key.ClientId == clientId);
                return;
            }

            var deadline = _timeProvider.GetUtcNow() + _expiry;
            foreach (var peer in _store.GetPeers())
            {
                if (peer.Key.ClientId == clientId)
                {
                    _store.PutPeer(peer with { ExpiresAt = deadline });
                }
            }

            ScheduleExpiryLocked(clientId, deadline);
        }
    }

    /// <summary>
    /// A persistent store can hold announcements from before a restart: their clients are not connected now, so
    /// each gets a deadline (the one it had, or a full grace period if the server stopped without detaching it)
    /// and a timer, and a reconnect within it revives them as usual.
    /// </summary>
    private void ExpireLoadedPeers()
    {
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            var deadlines = new HashSet<(string ClientId, DateTimeOffset Deadline)>();
            foreach (var peer in _store.GetPeers())
            {
                var deadline = peer.ExpiresAt ?? now + _expiry;
                if (peer.ExpiresAt is null)
                {
                    _store.PutPeer(peer with { ExpiresAt = deadline });
                }

                deadlines.Add((peer.Key.ClientId, deadline));
            }

            foreach (var (clientId, deadline) in deadlines)
            {
                ScheduleExpiryLocked(clientId, deadline);
            }
        }
    }

    private void ScheduleExpiryLocked(string clientId, DateTimeOffset deadline)
    {
        var dueIn = deadline - _timeProvider.GetUtcNow();
        ITimer? timer = null;
        timer = _timeProvider.CreateTimer(
            _ =>
            {
                lock (_gate)
                {
                    // A timer that fires while the directory is disposed must not touch a store that may be closed.
                    if (_disposed)
                    {
                        return;
                    }

                    // Only the announcements this disconnect marked: a revive cleared the deadline, and a later
                    // disconnect set a different one with its own timer.
                    RemoveWhereLocked(peer => peer.Key.ClientId == clientId && peer.ExpiresAt == deadline);
                    if (timer is not null && _expiryTimers.Remove(timer))
                    {
                        timer.Dispose();
                    }
                }
            },
            null,
            dueIn > TimeSpan.Zero ? dueIn : TimeSpan.Zero,
            Timeout.InfiniteTimeSpan);
        _expiryTimers.Add(timer);
    }

    /// <summary>Adds or replaces an announcement of a connected client.</summary>
    public void Announce(PeerKey key, string metadata, Peer peer)
    {
        lock (_gate)
        {
            _store.PutPeer(new StoredPeer(key, metadata, peer, ExpiresAt: null));
            NotifyLocked(key.Endpoint);
        }
    }

    /// <summary>Removes an announcement whose stream the client ended.</summary>
    public void Withdraw(PeerKey key)
    {
        lock (_gate)
        {
            if (_store.RemovePeer(key))
            {
                NotifyLocked(key.Endpoint);
            }
        }
    }

    /// <summary>The peers of <paramref name="endpoint"/> in the role opposite to <paramref name="role"/>, other than <paramref name="selfClientId"/>, one per client.</summary>
    public List<RemotePeer> OppositePeers(string endpoint, Role role, string selfClientId)
    {
        var wanted = role == Role.Destination ? Role.Source : Role.Destination;
        lock (_gate)
        {
            // The key is (endpoint, role, client), so filtering by endpoint and role already leaves one per client.
            return [.. _store.GetPeers()
                .Where(peer => peer.Key.Endpoint == endpoint && peer.Key.Role == wanted && peer.Key.ClientId != selfClientId)
                .OrderBy(peer => peer.Key.ClientId, StringComparer.Ordinal)
                .Select(peer => new RemotePeer { Id = peer.Key.ClientId, Metadata = peer.Metadata, Peer = peer.Peer.Clone() })];
        }
    }

    public IReadOnlyList<StoredPeer> Snapshot()
    {
        lock (_gate)
        {
            return _store.GetPeers();
        }
    }

    /// <summary>Signals the returned watcher whenever a peer of <paramref name="endpoint"/> changes.</summary>
    public EndpointWatcher Watch(string endpoint)
    {
        lock (_gate)
        {
            var watcher = new EndpointWatcher(this, endpoint);
            if (!_watchers.TryGetValue(endpoint, out var set))
            {
                _watchers[endpoint] = set = [];
            }

            set.Add(watcher);
            return watcher;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var timer in _expiryTimers)
            {
                timer.Dispose();
            }

            _expiryTimers.Clear();
        }
    }

    private void Unwatch(EndpointWatcher watcher)
    {
        lock (_gate)
        {
            if (_watchers.TryGetValue(watcher.Endpoint, out var set) && set.Remove(watcher) && set.Count == 0)
            {
                _watchers.Remove(watcher.Endpoint);
            }
        }
    }

    private void RemoveWhereLocked(Func<StoredPeer, bool> predicate)
    {
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var peer in _store.GetPeers())
        {
            if (predicate(peer) && _store.RemovePeer(peer.Key))
            {
                touched.Add(peer.Key.Endpoint);
            }
        }

        foreach (var endpoint in touched)
        {
            NotifyLocked(endpoint);
        }
    }

    private void NotifyLocked(string endpoint)
    {
        if (_watchers.TryGetValue(endpoint, out var set))
        {
            foreach (var watcher in set)
            {
                watcher.Signal();
            }
        }
    }

    /// <summary>A level-triggered "something changed" signal: many changes before a wait collapse into one wake-up.</summary>
    internal sealed class EndpointWatcher : IDisposable
    {
        private readonly PeerDirectory _directory;
        private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

        public EndpointWatcher(PeerDirectory directory, string endpoint)
        {
            _directory = directory;
            Endpoint = endpoint;
        }

        public string Endpoint { get; }

        public void Signal() => _changes.Writer.TryWrite(true);

        /// <summary>Waits for the next change; false once disposed.</summary>
        public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
        {
            if (!await _changes.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            _changes.Reader.TryRead(out _);
            return true;
        }

        public void Dispose()
        {
            _directory.Unwatch(this);
            _changes.Writer.TryComplete();
        }
    }
}
