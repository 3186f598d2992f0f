using System.Net;
using System.Net.Sockets;

namespace Connet.Quic.Tests.Fuzz;

/// <summary>
/// A raw UDP socket between one client and a server: forwards both ways and records every datagram the client sent.
/// The client dials <see cref="LocalEndPoint"/>; the server sees the relay's address as the client's. The same socket
/// can inject datagrams of its own (<see cref="InjectToServer"/>), which reach the server's connection as if the client
/// had sent them.
/// </summary>
internal sealed class CapturingRelay : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _server;
    private readonly List<byte[]> _fromClient = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _relaying;

    public CapturingRelay(IPEndPoint server)
    {
        _server = server;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _relaying = Task.Run(RelayAsync);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>The socket itself, for sending once relaying has stopped.</summary>
    public Socket Socket => _socket;

    public IReadOnlyList<byte[]> CapturedFromClient
    {
        get
        {
            lock (_fromClient)
            {
                return [.. _fromClient];
            }
        }
    }

    public void InjectToServer(byte[] datagram) => _socket.SendTo(datagram, _server);

    /// <summary>Stops forwarding; the socket stays open (what the server sends is then left unread).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _relaying;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task RelayAsync()
    {
        byte[] buffer = new byte[2048];
        IPEndPoint? client = null;
        try
        {
            while (true)
            {
                SocketReceiveFromResult received = await _socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                var from = (IPEndPoint)received.RemoteEndPoint;
                byte[] datagram = buffer[..received.ReceivedBytes];
                if (from.Equals(_server))
                {
                    if (client is not null)
                    {
                        await _socket.SendToAsync(datagram, client, _stop.Token);
                    }

                    continue;
                }

                client = from;
                lock (_fromClient)
                {
                    _fromClient.Add(datagram);
                }

                await _socket.SendToAsync(datagram, _server, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Relaying is over.
        }
    }
}
