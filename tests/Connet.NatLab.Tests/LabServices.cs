using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Connet.NatLab.Tests;

/// <summary>A TCP echo service listening on 127.0.0.1 inside a lab namespace: the destination's target.</summary>
internal sealed class EchoService : IDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();

    public EchoService(string namespaceName)
    {
        _listener = NetNamespace.Tcp(namespaceName);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptAsync(_stopping.Token);
                _ = EchoAsync(client);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task EchoAsync(Socket client)
    {
        using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            await stream.CopyToAsync(stream, _stopping.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }
}

/// <summary>Reads a client's status-addr JSON from inside its namespace (one HTTP/1.0 request, read to the end).</summary>
internal static class StatusReader
{
    private const int MaxStatusBytes = 1024 * 1024;

    /// <summary>The status document, or null while the status server does not answer yet.</summary>
    public static async Task<JsonDocument?> TryReadAsync(string namespaceName, int port, CancellationToken cancellationToken)
    {
        using var socket = NetNamespace.Tcp(namespaceName);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
        }
        catch (SocketException)
        {
            return null;
        }

        using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\nHost: status\r\n\r\n"), cancellationToken);
        using var response = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            response.Write(buffer, 0, read);
            if (response.Length > MaxStatusBytes)
            {
                throw new IOException($"the status response exceeds {MaxStatusBytes} bytes");
            }
        }

        string text = Encoding.UTF8.GetString(response.ToArray());
        int body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return body < 0 ? null : JsonDocument.Parse(text[(body + 4)..]);
    }

    /// <summary>The directions (<c>outgoing</c>, <c>incoming</c>, <c>relay</c>) of every peer connection of every endpoint.</summary>
    public static IReadOnlyList<string> ConnectionDirections(JsonDocument status) =>
        [.. status.RootElement.GetProperty("endpoints").EnumerateArray()
            .SelectMany(endpoint => endpoint.GetProperty("peers").EnumerateArray())
            .SelectMany(peer => peer.GetProperty("connections").EnumerateArray())
            .Select(connection => connection.GetProperty("direction").GetString() ?? "")];
}
