using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Connet.Bench;

/// <summary>A TCP server on 127.0.0.1 that hands each accepted connection to <see cref="ServeAsync"/>.</summary>
internal abstract class TcpServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _accepting;

    protected TcpServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    protected abstract Task ServeAsync(Socket connection, CancellationToken stop);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _accepting;
            await Task.WhenAll(_connections);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // Torn down mid-connection at the end of the run.
        }

        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                Socket connection = await _listener.AcceptAsync(_stop.Token);
                connection.NoDelay = true;
                _connections.Add(ServeOwnedAsync(connection));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private async Task ServeOwnedAsync(Socket connection)
    {
        using Socket owned = connection;
        try
        {
            await ServeAsync(connection, _stop.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The tunnel or the run ended the connection.
        }
    }
}

/// <summary>Reads and discards until the peer's FIN, then half-closes so the sender learns every byte arrived.</summary>
internal sealed class TcpSinkServer : TcpServer
{
    protected override async Task ServeAsync(Socket connection, CancellationToken stop)
    {
        byte[] buffer = new byte[256 * 1024];
        while (await connection.ReceiveAsync(buffer, stop) > 0)
        {
        }

        connection.Shutdown(SocketShutdown.Send);
    }
}

/// <summary>Echoes each connection and half-closes after the peer's FIN.</summary>
internal sealed class TcpEchoServer : TcpServer
{
    protected override async Task ServeAsync(Socket connection, CancellationToken stop)
    {
        byte[] buffer = new byte[64 * 1024];
        int read;
        while ((read = await connection.ReceiveAsync(buffer, stop)) > 0)
        {
            await connection.SendAsync(buffer.AsMemory(0, read), stop);
        }

        connection.Shutdown(SocketShutdown.Send);
    }
}
