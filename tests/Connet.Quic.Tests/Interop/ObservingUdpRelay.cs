using System.Net;
using System.Net.Sockets;

namespace Connet.Quic.Tests.Interop;

/// <summary>
/// A loopback UDP relay for one client: the client sends to <see cref="EndPoint"/>, the relay
/// forwards to the server from a socket of its own and passes the answers back, showing every
/// datagram to an <see cref="InitialPacketObserver"/> on the way. Neither side can tell it is there.
/// </summary>
internal sealed class ObservingUdpRelay : IAsyncDisposable
{
    private const int MaxDatagramSize = 65535;

    private readonly Socket clientFacing = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Socket serverFacing = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource stopping = new();
    private readonly Task clientToServer;
    private readonly Task serverToClient;
    private readonly TaskCompletionSource<IPEndPoint> client = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ObservingUdpRelay(IPEndPoint server)
    {
        clientFacing.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        serverFacing.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        serverFacing.Connect(server);
        clientToServer = Task.Run(RelayClientToServerAsync);
        serverToClient = Task.Run(RelayServerToClientAsync);
    }

    /// <summary>Where the client should send.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)clientFacing.LocalEndPoint!;

    public InitialPacketObserver Observer { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        clientFacing.Dispose();
        serverFacing.Dispose();
        try
        {
            await Task.WhenAll(clientToServer, serverToClient).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The sockets were closed under the loops on purpose.
        }

        stopping.Dispose();
    }

    // Each loop runs until disposal cancels it; every iteration waits for one datagram.
    private async Task RelayClientToServerAsync()
    {
        var buffer = new byte[MaxDatagramSize];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!stopping.IsCancellationRequested)
        {
            var received = await clientFacing.ReceiveFromAsync(buffer, any, stopping.Token).ConfigureAwait(false);
            client.TrySetResult((IPEndPoint)received.RemoteEndPoint);
            var datagram = buffer.AsMemory(0, received.ReceivedBytes);
            Observer.ObserveFromClient(datagram.Span);
            try
            {
                await serverFacing.SendAsync(datagram, stopping.Token).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // The server is gone (an earlier datagram drew ICMP port unreachable): drop, as the network would.
            }
        }
    }

    private async Task RelayServerToClientAsync()
    {
        var buffer = new byte[MaxDatagramSize];
        var destination = await client.Task.WaitAsync(stopping.Token).ConfigureAwait(false);
        while (!stopping.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await serverFacing.ReceiveAsync(buffer, stopping.Token).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // ICMP port unreachable for an earlier datagram (the server is gone); keep relaying until disposed.
                continue;
            }

            var datagram = buffer.AsMemory(0, received);
            Observer.ObserveFromServer(datagram.Span);
            await clientFacing.SendToAsync(datagram, destination, stopping.Token).ConfigureAwait(false);
        }
    }
}
