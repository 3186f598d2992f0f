using System.Collections.Concurrent;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;

namespace Connet.Server.Control;

/// <summary>Identifies one announcement: a client's peer for one endpoint in one role.</summary>
public readonly record struct PeerKey(string Endpoint, Role Role, string ClientId);

/// <summary>
/// A stored announcement. <see cref="ExpiresAt"/> is null while the announcing client is connected and set to
/// the end of its grace period once it disconnects.
/// </summary>
public sealed record StoredPeer(PeerKey Key, string Metadata, Peer Peer, DateTimeOffset? ExpiresAt);

/// <summary>
/// Where the control server keeps announcements. Only storage: the server serialises calls and does the
/// notifying, so an implementation needs no ordering logic of its own (a SQLite one can come later).
/// </summary>
public interface IControlStore
{
    /// <summary>Adds or replaces the announcement with <paramref name="peer"/>'s key.</summary>
    void PutPeer(StoredPeer peer);

    /// <summary>Removes an announcement; false if there was none.</summary>
    bool RemovePeer(PeerKey key);

    /// <summary>Every announcement, in no particular order.</summary>
    IReadOnlyList<StoredPeer> GetPeers();
}

/// <summary>The default store: announcements live only as long as the process.</summary>
public sealed class InMemoryControlStore : IControlStore
{
    private readonly ConcurrentDictionary<PeerKey, StoredPeer> _peers = new();

    public void PutPeer(StoredPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        _peers[peer.Key] = peer;
    }

    public bool RemovePeer(PeerKey key) => _peers.TryRemove(key, out _);

    public IReadOnlyList<StoredPeer> GetPeers() => [.. _peers.Values];
}
