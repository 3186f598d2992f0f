using System.Net;
using Connet.Core.Protocol.Wire;
using Connet.Quic;
using Connet.Server.Control;
using Connet.Server.Control.Storage;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace Connet.Server.Tests.Storage;

public sealed class PersistentControlServerTests
{
    [Fact]
    public async Task RestartOnTheSameDirectoryAndPort_KeepsTheClientIdAndItsAnnouncement()
    {
        using var directory = new StoreDirectory();
        var options = ControlTestKit.Options();
        options.StoreDirectory = directory.Path;
        string clientId;
        ByteString reconnectToken;
        IPEndPoint ingress;
        ControlTestClient client;
        QuicStream announceStream;
        await using (var first = await ControlTestKit.StartAsync(options))
        {
            ingress = first.ClientIngressEndPoints[0];
            (client, var auth) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
            Assert.Null(auth.Error);
            reconnectToken = auth.ReconnectToken;
            clientId = Assert.Single(first.GetStatus().Clients).Id;
            announceStream = await client.AnnounceAsync("app", Role.Destination, ControlTestKit.PeerWithDirect(8001));

            // The first answer comes after the announcement is stored.
            await ControlTestClient.ReadAnnounceUntilAsync(announceStream, _ => true);

            // The server stops with the client still connected (ending the stream would withdraw the announcement).
        }

        await using var disposeClient = client;
        await using var disposeStream = announceStream;

        var restarted = ControlTestKit.Options();
        restarted.ClientIngresses[0].Address = ingress;
        restarted.StoreDirectory = directory.Path;
        await using var second = await ControlTestKit.StartAsync(restarted);
        Assert.Equal(ingress, second.ClientIngressEndPoints[0]);

        // Before the client is back, its announcement is served from the store, in its grace period.
        var stored = Assert.Single(Assert.Single(second.GetStatus().Endpoints).Peers);
        Assert.Equal(clientId, stored.ClientId);
        Assert.NotNull(stored.ExpiresAt);
        var (observer, _) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
        await using var disposeObserver = observer;
        await using var observerStream = await observer.AnnounceAsync("app", Role.Source, ControlTestKit.PeerWithDirect(7001));
        var seen = Assert.Single((await ControlTestClient.ReadAnnounceUntilAsync(observerStream, update => update.Peers.Count == 1)).Peers);
        Assert.Equal(clientId, seen.Id);
        Assert.Equal(8001u, seen.Peer.Directs[0].Port);

        // The token sealed by the first server opens on the second: same ID, and the peer's new data replaces the old.
        var (again, againAuth) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress, reconnectToken: reconnectToken);
        await using var disposeAgain = again;
        Assert.Null(againAuth.Error);
        Assert.Contains(second.GetStatus().Clients, client => client.Id == clientId);
        await using var againStream = await again.AnnounceAsync("app", Role.Destination, ControlTestKit.PeerWithDirect(8002));
        var update = await ControlTestClient.ReadAnnounceUntilAsync(observerStream, update => update.Peers.Any(peer => peer.Peer.Directs[0].Port == 8002));
        Assert.Equal(clientId, Assert.Single(update.Peers).Id);
        Assert.Null(Assert.Single(second.GetStatus().Endpoints.Single().Peers, peer => peer.Role == Role.Destination).ExpiresAt);
    }

    [Fact]
    public async Task RestartOnTheSameDirectory_KeepsTheControlIdBoxKeyAndRelayId()
    {
        using var directory = new StoreDirectory();
        var options = ControlTestRelay.Options();
        options.StoreDirectory = directory.Path;
        AuthenticateRespOfRelay firstAnswer;
        string relayId;
        await using (var first = await ControlTestKit.StartAsync(options))
        {
            var (relay, response) = await ControlTestRelay.ConnectAndAuthenticateAsync(first.RelayIngressEndPoints[0]);
            await using var disposeRelay = relay;
            Assert.Null(response.Error);
            firstAnswer = new AuthenticateRespOfRelay(response.ControlId, response.ControlAuthenticationKey, response.ReconnectToken);
            relayId = Assert.Single(first.GetStatus().Relays).Id;
        }

        var restarted = ControlTestRelay.Options();
        restarted.StoreDirectory = directory.Path;
        await using var second = await ControlTestKit.StartAsync(restarted);
        var (again, againResponse) = await ControlTestRelay.ConnectAndAuthenticateAsync(second.RelayIngressEndPoints[0], reconnectToken: firstAnswer.ReconnectToken);
        await using var disposeAgain = again;

        Assert.Null(againResponse.Error);
        Assert.Equal(firstAnswer.ControlId, againResponse.ControlId);
        Assert.Equal(firstAnswer.ControlKey, againResponse.ControlAuthenticationKey);
        Assert.Equal(relayId, Assert.Single(second.GetStatus().Relays).Id);
    }

    [Fact]
    public async Task WithoutStoreDirectory_ARestartChangesTheControlIdAndBoxKey()
    {
        ByteString firstKey;
        string firstId;
        await using (var first = await ControlTestKit.StartAsync(ControlTestRelay.Options()))
        {
            var (relay, response) = await ControlTestRelay.ConnectAndAuthenticateAsync(first.RelayIngressEndPoints[0]);
            await using var disposeRelay = relay;
            (firstKey, firstId) = (response.ControlAuthenticationKey, response.ControlId);
        }

        await using var second = await ControlTestKit.StartAsync(ControlTestRelay.Options());
        var (again, againResponse) = await ControlTestRelay.ConnectAndAuthenticateAsync(second.RelayIngressEndPoints[0]);
        await using var disposeAgain = again;
        Assert.NotEqual(firstKey, againResponse.ControlAuthenticationKey);
        Assert.NotEqual(firstId, againResponse.ControlId);
    }

    private sealed record AuthenticateRespOfRelay(string ControlId, ByteString ControlKey, ByteString ReconnectToken);

    [Fact]
    public async Task WithoutStoreDirectory_ARestartForgetsTheClient()
    {
        var options = ControlTestKit.Options();
        string clientId;
        ByteString reconnectToken;
        IPEndPoint ingress;
        await using (var first = await ControlTestKit.StartAsync(options))
        {
            ingress = first.ClientIngressEndPoints[0];
            var (client, auth) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress);
            await using (client)
            {
                reconnectToken = auth.ReconnectToken;
                clientId = Assert.Single(first.GetStatus().Clients).Id;
            }
        }

        var restarted = ControlTestKit.Options();
        restarted.ClientIngresses[0].Address = ingress;
        await using var second = await ControlTestKit.StartAsync(restarted);
        var (again, againAuth) = await ControlTestClient.ConnectAndAuthenticateAsync(ingress, reconnectToken: reconnectToken);
        await using var disposeAgain = again;

        Assert.Null(againAuth.Error);
        Assert.DoesNotContain(second.GetStatus().Clients, client => client.Id == clientId);
    }

    [Fact]
    public async Task AnnouncementsLoadedAfterARestart_ExpireOnTheNewServersClock()
    {
        using var directory = new StoreDirectory();
        var time = new ManualTimeProvider();
        using (var store = new SqliteControlStore(directory.Path, time))
        {
            // One left by a clean stop (deadline set), one by a crash (still marked connected).
            store.PutPeer(new StoredPeer(new PeerKey("ssh", Role.Destination, "detached"), "", ControlTestKit.PeerWithDirect(1), time.GetUtcNow().AddSeconds(10)));
            store.PutPeer(new StoredPeer(new PeerKey("ssh", Role.Destination, "crashed"), "", ControlTestKit.PeerWithDirect(2), null));
        }

        var options = ControlTestKit.Options();
        options.StoreDirectory = directory.Path;
        options.TimeProvider = time;
        options.EndpointExpiry = TimeSpan.FromSeconds(30);
        await using (var server = new ControlServer(options))
        {
            var peers = Assert.Single(server.GetStatus().Endpoints).Peers;
            Assert.All(peers, peer => Assert.NotNull(peer.ExpiresAt));

            time.Advance(TimeSpan.FromSeconds(11));
            Assert.Equal("crashed", Assert.Single(Assert.Single(server.GetStatus().Endpoints).Peers).ClientId);

            time.Advance(TimeSpan.FromSeconds(20));
            Assert.Empty(server.GetStatus().Endpoints);
        }

        using var reopened = new SqliteControlStore(directory.Path, new ManualTimeProvider());
        Assert.Empty(reopened.GetPeers());
    }

    [Fact]
    public async Task ServerOnADirectoryInUse_FailsAtConstructionNamingTheFile()
    {
        using var directory = new StoreDirectory();
        var options = ControlTestKit.Options();
        options.StoreDirectory = directory.Path;
        await using var first = new ControlServer(options);

        // The server's default busy timeout applies: the construction waits a few seconds before failing.
        var failure = Assert.Throws<ControlStoreException>(() => new ControlServer(options));
        Assert.Contains(Path.Combine(directory.Path, SqliteControlStore.FileName), failure.Message, StringComparison.Ordinal);
        Assert.NotNull(first.Keys);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void BlankStoreDirectory_IsAValidationError(string blank)
    {
        var options = ControlTestKit.Options();
        options.StoreDirectory = blank;

        var failure = Assert.Single(ControlServerOptionsValidator.Validate(options));
        Assert.StartsWith("StoreDirectory:", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddConnetControlServer_WithStoreDirectory_UsesTheSqliteStore()
    {
        using var directory = new StoreDirectory();
        var services = new ServiceCollection();
        services.AddConnetControlServer(options =>
        {
            options.ClientIngresses.Add(new ControlClientIngress { Address = new IPEndPoint(IPAddress.Loopback, 0), Certificate = ControlTestKit.ServerCertificate });
            options.Tokens.Add(new ControlClientToken { Token = ControlTestKit.GoodToken });
            options.StoreDirectory = directory.Path;
        });
        string serverId;
        await using (var provider = services.BuildServiceProvider())
        {
            var store = Assert.IsType<SqliteControlStore>(provider.GetRequiredService<IControlStore>());
            var server = provider.GetRequiredService<ControlServer>();
            Assert.Same(store, server.Keys);
            serverId = store.ServerId;
        }

        // Disposing the provider closed the file, so it opens again with the same identity.
        using var reopened = new SqliteControlStore(directory.Path);
        Assert.Equal(serverId, reopened.ServerId);
    }
}
