using System.Net;
using System.Net.Sockets;
using Connet.Client.Tunnels.Destinations;

namespace Connet.Client.Tunnels;

/// <summary>The destination target of a <c>tcp://host:port</c> URL: a TCP connect per tunnel, bounded by a dial timeout.</summary>
internal static class TcpDestination
{
    /// <summary>The bound used when no dial timeout is given at all (tests and callers without options).</summary>
    public static readonly TimeSpan DefaultDialTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A dial function for <see cref="Peers.PeerRequestServer"/> that connects to <paramref name="url"/>.</summary>
    /// <param name="dialTimeout">How long one connect may take; <see cref="TimeSpan.Zero"/> adds no limit of our own (Go connet's default), null uses <see cref="DefaultDialTimeout"/>.</param>
    public static Func<CancellationToken, ValueTask<Stream>> Dialer(string url, TimeSpan? dialTimeout = null)
    {
        TcpUrl target = TcpUrl.Parse(url);
        TimeSpan timeout = dialTimeout ?? DefaultDialTimeout;
        return async cancellationToken => new NetworkStream(
            await ConnectAsync(target.Host, target.Port, timeout, cancellationToken).ConfigureAwait(false),
            ownsSocket: true);
    }

    /// <summary>A connected TCP socket to <paramref name="host"/>:<paramref name="port"/>, trying each resolved address in turn.</summary>
    /// <param name="timeout">Bounds resolving and connecting together; <see cref="TimeSpan.Zero"/> means no limit of our own.</param>
    /// <exception cref="TimeoutException">Connecting took longer than <paramref name="timeout"/>; the message names the target.</exception>
    public static async ValueTask<Socket> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var target = new TcpUrl(host.Length == 0 ? DestinationTarget.LocalHost : host, port);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout > TimeSpan.Zero)
        {
            deadline.CancelAfter(timeout);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            IPAddress[] addresses = await target.ResolveAsync(deadline.Token).ConfigureAwait(false);
            await socket.ConnectAsync(addresses, port, deadline.Token).ConfigureAwait(false);
            return socket;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"connecting to {target} took longer than the dial timeout of {timeout.TotalSeconds:0.###} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
