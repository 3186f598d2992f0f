using System.Net.Sockets;

namespace Connet.Client.Tunnels;

/// <summary>The destination target of a <c>tcp://host:port</c> URL: a TCP connect per tunnel, bounded by a dial timeout.</summary>
internal static class TcpDestination
{
    /// <summary>Go connet's default destination <c>dial-timeout</c> is unset (the OS's); we bound it so a dead target fails the tunnel promptly.</summary>
    public static readonly TimeSpan DefaultDialTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A dial function for <see cref="Peers.PeerRequestServer"/> that connects to <paramref name="url"/>.</summary>
    public static Func<CancellationToken, ValueTask<Stream>> Dialer(string url, TimeSpan? dialTimeout = null)
    {
        TcpUrl target = TcpUrl.Parse(url);
        TimeSpan timeout = dialTimeout ?? DefaultDialTimeout;
        return cancellationToken => DialAsync(target, timeout, cancellationToken);
    }

    private static async ValueTask<Stream> DialAsync(TcpUrl target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(await target.ResolveAsync(deadline.Token).ConfigureAwait(false), target.Port, deadline.Token).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"connecting to {target} took longer than {timeout.TotalSeconds:0.###} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
