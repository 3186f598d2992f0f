using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;
using Connet.Server.Control;

namespace Connet.Server.Tests;

public sealed class PeerDirectoryTests
{
    private static readonly TimeSpan Expiry = TimeSpan.FromSeconds(30);

    [Fact]
    public void OppositePeers_ExcludeSelfAndSameRole()
    {
        using var directory = new PeerDirectory(new InMemoryControlStore(), new ManualTimeProvider(), Expiry);
        directory.Announce(new PeerKey("web", Role.Destination, "d1"), "", new Peer());
        directory.Announce(new PeerKey("web", Role.Source, "s1"), "", new Peer());
        directory.Announce(new PeerKey("web", Role.Source, "s2"), "", new Peer());
        directory.Announce(new PeerKey("web", Role.Source, "d1"), "", new Peer());
        directory.Announce(new PeerKey("other", Role.Source, "s3"), "", new Peer());

        Assert.Equal(["s1", "s2"], directory.OppositePeers("web", Role.Destination, "d1").Select(peer => peer.Id));
        Assert.Equal(["d1"], directory.OppositePeers("web", Role.Source, "s1").Select(peer => peer.Id));
        Assert.Empty(directory.OppositePeers("web", Role.Source, "d1"));
    }

    [Fact]
    public async Task Detach_KeepsPeersUntilExpiryThenRemovesAndSignals()
    {
        var clock = new ManualTimeProvider();
        using var directory = new PeerDirectory(new InMemoryControlStore(), clock, Expiry);
        var session = directory.Attach("d1");
        directory.Announce(new PeerKey("web", Role.Destination, "d1"), "", new Peer());
        using var watcher = directory.Watch("web");

        directory.Detach("d1", session);
        clock.Advance(Expiry - TimeSpan.FromSeconds(1));
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(1), Assert.Single(directory.Snapshot()).ExpiresAt);
        var change = watcher.WaitAsync(CancellationToken.None).AsTask();
        Assert.False(change.IsCompleted);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(directory.Snapshot());
        Assert.True(await change.WaitAsync(ControlTestKit.Guard));
    }

    [Fact]
    public void ReconnectWithinExpiry_RevivesAndTheOldTimerDoesNotRemove()
    {
        var clock = new ManualTimeProvider();
        using var directory = new PeerDirectory(new InMemoryControlStore(), clock, Expiry);
        var first = directory.Attach("d1");
        directory.Announce(new PeerKey("web", Role.Destination, "d1"), "", new Peer());
        directory.Detach("d1", first);
        clock.Advance(TimeSpan.FromSeconds(10));

        var second = directory.Attach("d1");
        clock.Advance(Expiry);

        Assert.Null(Assert.Single(directory.Snapshot()).ExpiresAt);

        // A late end of the first connection must not expire the second's announcements.
        directory.Detach("d1", first);
        clock.Advance(Expiry);
        Assert.Single(directory.Snapshot());

        directory.Detach("d1", second);
        clock.Advance(Expiry);
        Assert.Empty(directory.Snapshot());
    }

    [Fact]
    public void ZeroExpiry_RemovesOnDisconnect()
    {
        using var directory = new PeerDirectory(new InMemoryControlStore(), new ManualTimeProvider(), TimeSpan.Zero);
        var session = directory.Attach("d1");
        directory.Announce(new PeerKey("web", Role.Destination, "d1"), "", new Peer());

        directory.Detach("d1", session);

        Assert.Empty(directory.Snapshot());
    }
}
