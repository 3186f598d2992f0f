using System.Net.Sockets;

namespace Connet.Client.Tests;

/// <summary>The control server carries no user traffic, so losing it must not disturb tunnels already open.</summary>
public sealed class ControlRestartTests : IDisposable
{
    private readonly string _storeDirectory = Path.Combine(Path.GetTempPath(), "connet-control-restart-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task ControlRestartsWithItsStore_OpenTunnelKeepsFlowingAndClientsKeepTheirIds()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync(_storeDirectory);
        var destination = await kit.StartDestinationAsync(echo.Url);
        var source = await kit.StartSourceAsync();
        await ConnetClientKit.WaitForPeerConnectionAsync(source);
        string[] idsBefore = [.. kit.Control.GetStatus().Clients.Select(client => client.Id).Order(StringComparer.Ordinal)];

        using var guard = new CancellationTokenSource(TestKit.Guard);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(ConnetClientKit.SourceAddress(source), guard.Token);
        await using var tunnel = new NetworkStream(socket, ownsSocket: false);
        byte[] before = TestKit.SeededPayload(11, 256 * 1024);
        await EchoAsync(tunnel, before, guard.Token);

        await kit.RestartControlAsync();
        await ConnetClientKit.WaitForAsync(source, status => status.State == ConnetClientState.Connected && kit.Control.GetStatus().Clients.Count == 2, "both clients back on the restarted control server");
        await ConnetClientKit.WaitForAsync(destination, status => status.State == ConnetClientState.Connected, "the destination to reconnect");

        // The same TCP connection, opened before the restart, still carries bytes both ways.
        byte[] after = TestKit.SeededPayload(12, 256 * 1024);
        await EchoAsync(tunnel, after, guard.Token);
        string[] idsAfter = [.. kit.Control.GetStatus().Clients.Select(client => client.Id).Order(StringComparer.Ordinal)];
        Assert.Equal(idsBefore, idsAfter);

        socket.Shutdown(SocketShutdown.Send);
        Assert.Empty(await TestKit.ReadToEndAsync(tunnel, guard.Token));
    }

    [Fact]
    public async Task ControlRestartsWithoutAStore_OpenTunnelStillKeepsFlowing()
    {
        await using var echo = new TcpEchoServer();
        await using var kit = await ConnetClientKit.StartAsync();
        var destination = await kit.StartDestinationAsync(echo.Url);
        var source = await kit.StartSourceAsync();
        await ConnetClientKit.WaitForPeerConnectionAsync(source);

        using var guard = new CancellationTokenSource(TestKit.Guard);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(ConnetClientKit.SourceAddress(source), guard.Token);
        await using var tunnel = new NetworkStream(socket, ownsSocket: false);
        await EchoAsync(tunnel, TestKit.SeededPayload(13, 64 * 1024), guard.Token);

        // A fresh control server knows nobody: each client briefly sees its peer vanish from the announcements.
        await kit.RestartControlAsync();
        await ConnetClientKit.WaitForAsync(source, status => status.State == ConnetClientState.Connected && kit.Control.GetStatus().Clients.Count == 2, "both clients on the fresh control server");
        await ConnetClientKit.WaitForAsync(destination, status => status.State == ConnetClientState.Connected, "the destination to reconnect");
        await ConnetClientKit.WaitForPeerConnectionAsync(source);

        await EchoAsync(tunnel, TestKit.SeededPayload(14, 64 * 1024), guard.Token);
        socket.Shutdown(SocketShutdown.Send);
        Assert.Empty(await TestKit.ReadToEndAsync(tunnel, guard.Token));
    }

    public void Dispose()
    {
        if (Directory.Exists(_storeDirectory))
        {
            Directory.Delete(_storeDirectory, recursive: true);
        }
    }

    /// <summary>Writes <paramref name="payload"/> and reads back exactly as many bytes, which must be the same.</summary>
    private static async Task EchoAsync(NetworkStream tunnel, byte[] payload, CancellationToken cancellationToken)
    {
        Task writing = tunnel.WriteAsync(payload, cancellationToken).AsTask();
        byte[] echoed = new byte[payload.Length];
        await tunnel.ReadExactlyAsync(echoed, cancellationToken);
        await writing;
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ");
    }
}
