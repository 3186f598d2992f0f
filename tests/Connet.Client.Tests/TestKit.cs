using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Connet.Client.Tests;

internal static class TestKit
{
    /// <summary>Guards against hangs only; nothing asserts how long anything took.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    public static byte[] SeededPayload(int seed, int length)
    {
        byte[] payload = new byte[length];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    /// <summary>Connects to <paramref name="server"/>, writes <paramref name="payload"/>, half-closes, returns everything read until EOF.</summary>
    public static async Task<byte[]> TcpRoundTripAsync(IPEndPoint server, byte[] payload, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        Task<byte[]> reading = ReadToEndAsync(stream, cancellationToken);
        await stream.WriteAsync(payload, cancellationToken);
        socket.Shutdown(SocketShutdown.Send);
        return await reading;
    }

    public static async Task<byte[]> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var collected = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            collected.Write(buffer, 0, read);
        }

        return collected.ToArray();
    }

    /// <summary>A loopback port with nothing listening on it (bound, then released).</summary>
    public static int ClosedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}

/// <summary>A TCP echo server on 127.0.0.1: echoes each connection and half-closes after the client's FIN.</summary>
internal sealed class TcpEchoServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _echoes = [];
    private readonly Task _accepting;
    private int _accepted;

    public TcpEchoServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public string Url => $"tcp://127.0.0.1:{EndPoint.Port}";

    public int Accepted => Volatile.Read(ref _accepted);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _accepting;
            await Task.WhenAll(_echoes);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // Torn down mid-echo at the end of a test.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                Socket connection = await _listener.AcceptAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                _echoes.Add(EchoAsync(connection));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private async Task EchoAsync(Socket connection)
    {
        using Socket owned = connection;
        byte[] buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await connection.ReceiveAsync(buffer, _stop.Token)) > 0)
            {
                await connection.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }

            connection.Shutdown(SocketShutdown.Send);
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The tunnel or the test ended the connection.
        }
    }
}

/// <summary>Collects log entries so tests can assert that a failure was reported.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyCollection<(LogLevel Level, string Message)> Entries => _entries;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));
}
