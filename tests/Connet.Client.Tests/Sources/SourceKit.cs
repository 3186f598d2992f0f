using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Connet.Client.Tests.Sources;

/// <summary>Destination and source clients of one endpoint for the source scheme and load-balancing tests.</summary>
internal static class SourceKit
{
    public static async Task<ConnetClient> StartDestinationAsync(ConnetClientKit kit, string target, ConnetProxyProtocol proxyProtocol = ConnetProxyProtocol.None)
    {
        var options = kit.Options(ConnetClientKit.DestinationToken);
        options.Destinations["svc"] = new ConnetEndpointOptions { Url = target, Route = ConnetRoute.Direct, ProxyProtocol = proxyProtocol };
        return await kit.StartClientAsync(options);
    }

    public static async Task<ConnetClient> StartSourceAsync(ConnetClientKit kit, string url, Action<ConnetEndpointOptions>? configure = null)
    {
        var options = kit.Options(ConnetClientKit.SourceToken);
        var source = new ConnetEndpointOptions { Url = url, Route = ConnetRoute.Direct };
        configure?.Invoke(source);
        options.Sources["svc"] = source;
        return await kit.StartClientAsync(options);
    }

    /// <summary>Waits until the source has a live connection to <paramref name="destinations"/> destination peers.</summary>
    public static Task WaitForDestinationsAsync(ConnetClient source, int destinations) =>
        ConnetClientKit.WaitForAsync(
            source,
            status => status.Endpoints.Single(endpoint => endpoint.Name == "svc").Peers.Count(peer => peer.Connections.Count > 0) >= destinations,
            $"direct connections to {destinations} destination(s)");
}

/// <summary>A TCP target on 127.0.0.1 that records everything each connection sends until its FIN, then closes it.</summary>
internal sealed class RecordingTarget : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Channel<byte[]> _received = Channel.CreateUnbounded<byte[]>();
    private readonly Task _accepting;

    public RecordingTarget()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _accepting = AcceptAsync();
    }

    public string Url => $"tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";

    /// <summary>What the next connection sent, in full.</summary>
    public async Task<byte[]> NextAsync(CancellationToken cancellationToken) => await _received.Reader.ReadAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await Task.WhenAll([.. _connections, _accepting]);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _connections.Add(RecordAsync(socket));
        }
    }

    private async Task RecordAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                await using var stream = new NetworkStream(socket, ownsSocket: false);
                _received.Writer.TryWrite(await TestKit.ReadToEndAsync(stream, _stop.Token));
            }
            catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException)
            {
                // Stopped, or the tunnel broke: nothing to record.
            }
        }
    }
}
