using Connet.Core.Protocol.Wire;
using Connet.Server.Control;
using Connet.Server.Control.Storage;
using Microsoft.Data.Sqlite;

namespace Connet.Server.Tests.Storage;

public sealed class SqliteControlStoreTests
{
    private static readonly TimeSpan ShortBusyTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public void PutGetRemove_RoundTripEveryField()
    {
        using var directory = new StoreDirectory();
        var time = new ManualTimeProvider();
        using var store = new SqliteControlStore(directory.Path, time);
        var connected = new StoredPeer(new PeerKey("ssh", Role.Destination, "client-a"), "meta-a", ControlTestKit.PeerWithDirect(5001), ExpiresAt: null);
        var leaving = new StoredPeer(new PeerKey("ssh", Role.Source, "client-b"), "meta-b", ControlTestKit.PeerWithDirect(6001), time.GetUtcNow().AddSeconds(30));

        store.PutPeer(connected);
        store.PutPeer(leaving);
        store.PutPeer(connected with { Metadata = "meta-a2" });

        Assert.Equal(2, store.GetPeers().Count);
        Assert.Equal("meta-a2", Assert.Single(store.GetPeers(), peer => peer.Key == connected.Key).Metadata);
        Assert.True(store.RemovePeer(connected.Key));
        Assert.False(store.RemovePeer(connected.Key));
        Assert.Equal(leaving, Assert.Single(store.GetPeers()), PeerComparer);
    }

    [Fact]
    public void Reopen_KeepsAnnouncementsIdentityAndKeys()
    {
        using var directory = new StoreDirectory();
        var time = new ManualTimeProvider();
        var peer = new StoredPeer(new PeerKey("web", Role.Destination, "client-a"), "meta", ControlTestKit.PeerWithDirect(8080), time.GetUtcNow().AddSeconds(30));
        string serverId;
        byte[] reconnectKey;
        byte[] resetKey;
        byte[] relayKey;
        using (var first = new SqliteControlStore(directory.Path, time))
        {
            first.PutPeer(peer);
            serverId = first.ServerId;
            reconnectKey = first.ReconnectTokenKey.ToArray();
            resetKey = first.StatelessResetKey.ToArray();
            relayKey = first.RelayAuthenticationKey.ToArray();
        }

        using var second = new SqliteControlStore(directory.Path, time);
        Assert.Equal(peer, Assert.Single(second.GetPeers()), PeerComparer);
        Assert.Equal(serverId, second.ServerId);
        Assert.Equal(reconnectKey, second.ReconnectTokenKey.ToArray());
        Assert.Equal(resetKey, second.StatelessResetKey.ToArray());
        Assert.Equal(relayKey, second.RelayAuthenticationKey.ToArray());
        Assert.Equal(32, relayKey.Length);
        Assert.Equal(32, reconnectKey.Length);
        Assert.Equal(32, resetKey.Length);
        Assert.NotEqual(reconnectKey, resetKey);
        Assert.Equal(Path.Combine(directory.Path, SqliteControlStore.FileName), second.Path);
    }

    [Fact]
    public void TwoDirectories_HaveDifferentIdentitiesAndKeys()
    {
        using var oneDirectory = new StoreDirectory();
        using var otherDirectory = new StoreDirectory();
        using var one = new SqliteControlStore(oneDirectory.Path);
        using var other = new SqliteControlStore(otherDirectory.Path);

        Assert.NotEqual(one.ServerId, other.ServerId);
        Assert.NotEqual(one.ReconnectTokenKey.ToArray(), other.ReconnectTokenKey.ToArray());
        Assert.NotEqual(one.RelayAuthenticationKey.ToArray(), other.RelayAuthenticationKey.ToArray());
    }

    [Fact]
    public void Reopen_DropsAnnouncementsThatExpiredMeanwhileAndKeepsTheRest()
    {
        using var directory = new StoreDirectory();
        var time = new ManualTimeProvider();
        var expiring = new StoredPeer(new PeerKey("ssh", Role.Destination, "gone"), "", ControlTestKit.PeerWithDirect(1), time.GetUtcNow().AddSeconds(10));
        var lasting = new StoredPeer(new PeerKey("ssh", Role.Destination, "stays"), "", ControlTestKit.PeerWithDirect(2), time.GetUtcNow().AddSeconds(60));
        using (var first = new SqliteControlStore(directory.Path, time))
        {
            first.PutPeer(expiring);
            first.PutPeer(lasting);
        }

        time.Advance(TimeSpan.FromSeconds(20));
        using (var second = new SqliteControlStore(directory.Path, time))
        {
            Assert.Equal("stays", Assert.Single(second.GetPeers()).Key.ClientId);
        }

        // The purge was written back, not just filtered: a reader at the earlier time no longer sees it either.
        using var third = new SqliteControlStore(directory.Path, new ManualTimeProvider());
        Assert.Equal("stays", Assert.Single(third.GetPeers()).Key.ClientId);
    }

    [Fact]
    public void CorruptedFile_FailsWithAnErrorNamingThePath()
    {
        using var directory = new StoreDirectory();
        var path = Path.Combine(directory.Path, SqliteControlStore.FileName);
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 8192).Select(index => (byte)(index * 7))]);

        var failure = Assert.Throws<ControlStoreException>(() => new SqliteControlStore(directory.Path));

        Assert.Equal(path, failure.Path);
        Assert.Contains(path, failure.Message, StringComparison.Ordinal);
        Assert.Contains("corrupted", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SecondStoreOnTheSameDirectory_FailsWithAnErrorNamingThePath()
    {
        using var directory = new StoreDirectory();
        using var first = new SqliteControlStore(directory.Path);

        var failure = Assert.Throws<ControlStoreException>(() => new SqliteControlStore(directory.Path, busyTimeout: ShortBusyTimeout));

        Assert.Equal(first.Path, failure.Path);
        Assert.Contains(first.Path, failure.Message, StringComparison.Ordinal);
        Assert.Contains("locked", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileLockedByAnotherWriter_FailsWithAnErrorNamingThePath()
    {
        using var directory = new StoreDirectory();
        var path = Path.Combine(directory.Path, SqliteControlStore.FileName);
        using var other = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        other.Open();
        using var holdsTheLock = other.BeginTransaction(System.Data.IsolationLevel.Serializable);
        using (var write = other.CreateCommand())
        {
            write.Transaction = holdsTheLock;
            write.CommandText = "CREATE TABLE elsewhere (x INTEGER);";
            write.ExecuteNonQuery();
        }

        var failure = Assert.Throws<ControlStoreException>(() => new SqliteControlStore(directory.Path, busyTimeout: ShortBusyTimeout));

        Assert.Equal(path, failure.Path);
        Assert.Contains("locked", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NewerSchema_IsRefusedWithoutTouchingIt()
    {
        using var directory = new StoreDirectory();
        using (var store = new SqliteControlStore(directory.Path))
        {
        }

        var path = Path.Combine(directory.Path, SqliteControlStore.FileName);
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            connection.Open();
            using var bump = connection.CreateCommand();
            bump.CommandText = "UPDATE schema_version SET version = $version;";
            bump.Parameters.AddWithValue("$version", SqliteControlStore.SchemaVersion + 1);
            bump.ExecuteNonQuery();
        }

        var failure = Assert.Throws<ControlStoreException>(() => new SqliteControlStore(directory.Path));
        Assert.Contains("newer", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseAfterDispose_Throws()
    {
        using var directory = new StoreDirectory();
        var store = new SqliteControlStore(directory.Path);
        store.Dispose();

        Assert.Throws<ObjectDisposedException>(() => store.GetPeers());
    }

    [Fact]
    public async Task ConcurrentWriters_AllLand()
    {
        using var directory = new StoreDirectory();
        using (var store = new SqliteControlStore(directory.Path))
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(() =>
            {
                for (var index = 0; index < 25; index++)
                {
                    store.PutPeer(new StoredPeer(new PeerKey("ep", Role.Source, $"w{writer}-{index}"), "", ControlTestKit.PeerWithDirect(index + 1), null));
                }
            })));
        }

        using var reopened = new SqliteControlStore(directory.Path);
        Assert.Equal(100, reopened.GetPeers().Count);
    }

    private static readonly IEqualityComparer<StoredPeer> PeerComparer = EqualityComparer<StoredPeer>.Create(
        (left, right) => left is not null && right is not null
            && left.Key == right.Key && left.Metadata == right.Metadata && left.Peer.Equals(right.Peer) && left.ExpiresAt == right.ExpiresAt,
        peer => peer.Key.GetHashCode());
}
