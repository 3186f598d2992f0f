using System.Net;
using System.Net.Sockets;
using Connet.Client.Peers;
using Connet.Core.Protocol;
using Connet.Core.Runtime;
using Connet.Core.Tunnels;
using Connet.Quic;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Connet.Client.Tunnels;

/// <summary>
/// A source's TCP listener (<c>tcp://host:port</c>): each accepted TCP connection gets a tunnel on the best available
/// path: direct connections first, lowest smoothed RTT first, then relay connections the same way (connet-protocol.md
/// §2.4). A dead connection or a destination refusal (e.g. DestinationDialFailed, or DestinationNotFound from a relay)
/// moves on to the next path; when every path failed, the reasons are logged and the TCP connection is closed.
/// Disposal stops listening and ends every tunnel.
/// </summary>
internal sealed partial class TcpSource : IAsyncDisposable
{
    private readonly Func<IReadOnlyCollection<PeerConnection>> _connections;
    private readonly ILogger _logger;
    private readonly BackgroundTasks _tasks = new();
    private readonly Socket _listener;
    private readonly TimeSpan _openTimeout;
    private readonly RelayEncryptionSettings? _relayEncryption;

    private TcpSource(Socket listener, Func<IReadOnlyCollection<PeerConnection>> connections, ILogger logger, TimeSpan openTimeout, RelayEncryptionSettings? relayEncryption)
    {
        _listener = listener;
        _connections = connections;
        _logger = logger;
        _openTimeout = openTimeout;
        _relayEncryption = relayEncryption;
    }

    /// <summary>
    /// How long a tunnel may take to be accepted: the destination answers only after dialing its target (bounded by
    /// its dial timeout, 10 s by default), so a destination that never answers cannot hold TCP clients forever.
    /// </summary>
    public static readonly TimeSpan DefaultOpenTimeout = TimeSpan.FromSeconds(30);

    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Binds <paramref name="url"/> and starts accepting.</summary>
    /// <param name="connections">The peer and relay connections currently usable for this endpoint (read per TCP connection).</param>
    /// <param name="relayEncryption">Our relay encryption offer; required when <paramref name="connections"/> may hold relay connections.</param>
    public static async ValueTask<TcpSource> StartAsync(
        string url,
        Func<IReadOnlyCollection<PeerConnection>> connections,
        ILogger? logger = null,
        TimeSpan? openTimeout = null,
        RelayEncryptionSettings? relayEncryption = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connections);
        TcpUrl listen = TcpUrl.Parse(url);
        IPAddress address = (await listen.ResolveAsync(cancellationToken).ConfigureAwait(false))[0];
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            listener.Bind(new IPEndPoint(address, listen.Port));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var source = new TcpSource(listener, connections, logger ?? NullLogger.Instance, openTimeout ?? DefaultOpenTimeout, relayEncryption);
        source._tasks.Run(source.AcceptAsync);
        return source;
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the listener ends the pending accept; the task owner then cancels and waits for every tunnel.
        _listener.Dispose();
        await _tasks.DisposeAsync().ConfigureAwait(false);
    }

    private async Task AcceptAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException && stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException exception)
            {
                Log.AcceptFailed(_logger, exception.Message);
                continue;
            }

            client.NoDelay = true;
            if (!_tasks.Run(token => TunnelAsync(client, token)))
            {
                client.Dispose();
            }
        }
    }

    private async Task TunnelAsync(Socket client, CancellationToken stopping)
    {
        // Read before the socket can be disposed: it names the connection in every log entry.
        string clientName = client.RemoteEndPoint?.ToString() ?? "?";
        var tcp = new NetworkStream(client, ownsSocket: true);
        Stream? tunnel = null;
        try
        {
            tunnel = await OpenOnBestConnectionAsync(clientName, stopping).ConfigureAwait(false);
            if (tunnel is null)
            {
                return;
            }

            Stream spliced = tunnel;
            tunnel = null; // The splicer owns both from here.
            var tcpSpliced = tcp;
            tcp = null;
            await StreamSplicer.SpliceAsync(tcpSpliced, spliced, stopping).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is QuicException or IOException or SocketException or OperationCanceledException or ConnetProtocolException or ObjectDisposedException)
        {
            if (!stopping.IsCancellationRequested)
            {
                Log.TunnelFailed(_logger, clientName, exception.Message);
            }
        }
        finally
        {
            if (tunnel is not null)
            {
                await tunnel.DisposeAsync().ConfigureAwait(false);
            }

            if (tcp is not null)
            {
                await tcp.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The tunnel on the best path that works (direct before relay, then lowest RTT); null (after logging why) when none could be opened.</summary>
    private async Task<Stream?> OpenOnBestConnectionAsync(string client, CancellationToken stopping)
    {
        PeerConnection[] candidates =
        [
            .. _connections()
                .Where(connection => connection.Direction != PeerConnectionDirection.Relay || _relayEncryption is not null)
                .OrderBy(connection => connection.Direction == PeerConnectionDirection.Relay)
                .ThenBy(connection => connection.SmoothedRtt),
        ];
        if (candidates.Length == 0)
        {
            Log.NoConnection(_logger, client);
            return null;
        }

        foreach (PeerConnection candidate in candidates)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            deadline.CancelAfter(_openTimeout);
            try
            {
                return await PeerTunnel.OpenAsync(candidate, _relayEncryption, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                Log.OpenTimedOut(_logger, client, candidate.ToString(), _openTimeout.TotalSeconds);
                return null;
            }
            catch (ConnetProtocolException exception)
            {
                // Refused on this path (the destination's target, or a relay that found no destination): another
                // path may reach another destination instance, or the same one directly.
                Log.DestinationRefused(_logger, client, candidate.ToString(), exception.Code, exception.Message);
            }
            catch (Exception exception) when (exception is QuicException or ObjectDisposedException or IOException)
            {
                // Closed or disposed since it was listed: the next one may still work.
                Log.ConnectionUnusable(_logger, candidate.ToString(), exception.Message);
            }
        }

        Log.NoConnection(_logger, client);
        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Tunnel for {Client} via {Peer} refused by the destination ({Code}): {Reason}")]
        public static partial void DestinationRefused(ILogger logger, string client, string peer, ConnetErrorCode code, string reason);

        [LoggerMessage(2, LogLevel.Error, "No usable peer connection for {Client}: no direct connection works and no relay is shared with a destination")]
        public static partial void NoConnection(ILogger logger, string client);

        [LoggerMessage(3, LogLevel.Debug, "Peer connection {Peer} cannot open a tunnel: {Reason}")]
        public static partial void ConnectionUnusable(ILogger logger, string peer, string reason);

        [LoggerMessage(4, LogLevel.Debug, "Tunnel for {Client} ended with an error: {Reason}")]
        public static partial void TunnelFailed(ILogger logger, string client, string reason);

        [LoggerMessage(6, LogLevel.Error, "Tunnel for {Client} via {Peer} got no answer within {Seconds} s")]
        public static partial void OpenTimedOut(ILogger logger, string client, string peer, double seconds);

        [LoggerMessage(5, LogLevel.Warning, "Accepting a TCP connection failed: {Reason}")]
        public static partial void AcceptFailed(ILogger logger, string reason);
    }
}
