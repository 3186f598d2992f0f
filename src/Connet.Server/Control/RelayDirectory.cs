using System.Net;
using System.Threading.Channels;
using Connet.Core.Protocol.Wire;
using Google.Protobuf;

namespace Connet.Server.Control;

/// <summary>An authenticated relay, as clients are told about it.</summary>
/// <param name="SharedKey">The NaCl box key control and this relay precomputed; seals client authentications.</param>
internal sealed record ConnectedRelay(
    string Id,
    IReadOnlyList<HostPort> Addresses,
    ByteString ServerCertificate,
    byte[] SharedKey,
    string Metadata,
    IPEndPoint RemoteAddress,
    DateTimeOffset ConnectedAt);

/// <summary>
/// The relays connected right now, keyed by relay ID. Every change wakes the watchers (the clients' relay
/// streams); nothing here is persisted, a relay is listed only while its connection lasts.
/// </summary>
internal sealed class RelayDirectory
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, ConnectedRelay> _relays = new(StringComparer.Ordinal);
    private readonly HashSet<RelayWatcher> _watchers = [];
    private IReadOnlyList<ConnectedRelay> _snapshot = [];

    /// <summary>Lists <paramref name="relay"/>, replacing an entry with the same ID (the same relay reconnected).</summary>
    public void Register(ConnectedRelay relay)
    {
        lock (_gate)
        {
            _relays[relay.Id] = relay;
            ChangedLocked();
        }
    }

    /// <summary>Removes <paramref name="relay"/> unless its ID has since been taken over by a newer connection.</summary>
    public void Unregister(ConnectedRelay relay)
    {
        lock (_gate)
        {
            if (_relays.TryGetValue(relay.Id, out var current) && ReferenceEquals(current, relay))
            {
                _relays.Remove(relay.Id);
                ChangedLocked();
            }
        }
    }

    /// <summary>The connected relays ordered by ID; a new list object after every change, so callers can compare by reference.</summary>
    public IReadOnlyList<ConnectedRelay> Snapshot()
    {
        lock (_gate)
        {
            return _snapshot;
        }
    }

    public RelayWatcher Watch()
    {
        var watcher = new RelayWatcher(this);
        lock (_gate)
        {
            _watchers.Add(watcher);
        }

        return watcher;
    }

    private void Unwatch(RelayWatcher watcher)
    {
        lock (_gate)
        {
            _watchers.Remove(watcher);
        }
    }

    private void ChangedLocked()
    {
        _snapshot = [.. _relays.Values];
        foreach (var watcher in _watchers)
        {
            watcher.Signal();
        }
    }

    /// <summary>Wakes its owner after a change; several changes before it wakes collapse into one.</summary>
    internal sealed class RelayWatcher : IDisposable
    {
        private readonly RelayDirectory _directory;
        private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

        public RelayWatcher(RelayDirectory directory) => _directory = directory;

        public void Signal() => _changes.Writer.TryWrite(true);

        /// <summary>Waits for the next change; false once disposed.</summary>
        public async Task<bool> WaitAsync(CancellationToken cancellationToken)
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
