using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Connet.Client.Peers;
using Connet.Client.Tunnels.Sources;
using Connet.Core.Protocol;
using Connet.Core.Runtime;
using Connet.Core.Tunnels;
using Connet.Quic;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Connet.Client.Tunnels;

/// <summary>
/// A source's TCP listener: <c>tcp://host:port</c>, or <c>tls://host:port</c> (a TLS server with the endpoint's
/// certificate; with certificate authorities, callers must present a client certificate issued by one of them).
/// Each accepted connection gets a tunnel from the <see cref="TunnelOpener"/> (which picks the destination and path
/// per the load-balancing options); when the destination asks for it, a PROXY header with the caller's and our
/// addresses goes first. When no tunnel could be opened the TCP connection is closed. Disposal stops listening and
/// ends every tunnel.
/// </summary>
internal sealed partial class TcpSource : IAsyncDisposable
{
    /// <summary>How long a TLS caller may take to finish its handshake.</summary>
    public static readonly TimeSpan TlsHandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly TunnelOpener _opener;
    private readonly ILogger _logger;
    private readonly BackgroundTasks _tasks = new();
    private readonly Socket _listener;
    private readonly X509Certificate2? _certificate;
    private readonly X509Certificate2Collection _clientAuthorities;

    private TcpSource(Socket listener, TunnelOpener opener, X509Certificate2? certificate, X509Certificate2Collection clientAuthorities, ILogger logger)
    {
        _listener = listener;
        _opener = opener;
        _certificate = certificate;
        _clientAuthorities = clientAuthorities;
        _logger = logger;
    }

    /// <summary>
    /// How long a tunnel may take to be accepted when no dial timeout is set: the destination answers only after
    /// dialing its target (bounded by its dial timeout, 10 s by default), so a destination that never answers cannot
    /// hold TCP clients forever.
    /// </summary>
    public static TimeSpan DefaultOpenTimeout => TunnelOpenerOptions.DefaultAttemptTimeout;

    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Binds a <c>tcp://</c> <paramref name="url"/> and starts accepting; every path is tried in order.</summary>
    /// <param name="connections">The peer and relay connections currently usable for this endpoint (read per TCP connection).</param>
    /// <param name="relayEncryption">Our relay encryption offer; required when <paramref name="connections"/> may hold relay connections.</param>
    public static ValueTask<TcpSource> StartAsync(
        string url,
        Func<IReadOnlyCollection<PeerConnection>> connections,
        ILogger? logger = null,
        TimeSpan? openTimeout = null,
        RelayEncryptionSettings? relayEncryption = null,
        CancellationToken cancellationToken = default)
    {
        var opener = new TunnelOpener(
            TunnelOpener.Ungrouped(connections),
            new TunnelOpenerOptions(DialTimeout: openTimeout ?? DefaultOpenTimeout),
            relayEncryption,
            logger);
        return StartAsync(SourceUrl.Parse(url), opener, logger: logger, cancellationToken: cancellationToken);
    }

    /// <summary>Binds a <c>tcp://</c> or <c>tls://</c> <paramref name="url"/> and starts accepting.</summary>
    /// <param name="certificate">The TLS server certificate (with its private key); required for <c>tls://</c>.</param>
    /// <param name="clientAuthorities">Non-empty: TLS callers must present a certificate issued by one of these.</param>
    public static async ValueTask<TcpSource> StartAsync(
        SourceUrl url,
        TunnelOpener opener,
        X509Certificate2? certificate = null,
        X509Certificate2Collection? clientAuthorities = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(opener);
        if (url.Scheme is not (SourceScheme.Tcp or SourceScheme.Tls))
        {
            throw new ArgumentException($"A TCP source listens on tcp:// or tls://, not {url.Scheme}.", nameof(url));
        }

        if (url.Scheme == SourceScheme.Tls && certificate is not { HasPrivateKey: true })
        {
            throw new ArgumentException("A tls:// source needs a certificate with its private key.", nameof(certificate));
        }

        IPAddress address = await url.ResolveAsync(cancellationToken).ConfigureAwait(false);
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            listener.Bind(new IPEndPoint(address, url.Port));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var source = new TcpSource(
            listener,
            opener,
            url.Scheme == SourceScheme.Tls ? certificate : null,
            clientAuthorities ?? [],
            logger ?? NullLogger.Instance);
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
        // Read before the socket can be disposed: they name the connection in logs and fill a PROXY header.
        var remote = client.RemoteEndPoint as IPEndPoint;
        var local = client.LocalEndPoint as IPEndPoint;
        string clientName = remote?.ToString() ?? "?";
        Stream? caller = new NetworkStream(client, ownsSocket: true);
        SourceTunnel? tunnel = null;
        try
        {
            if (_certificate is not null)
            {
                caller = await AuthenticateAsync(caller, clientName, stopping).ConfigureAwait(false);
                if (caller is null)
                {
                    return;
                }
            }

            tunnel = await _opener.OpenAsync(clientName, stopping).ConfigureAwait(false);
            if (tunnel is null)
            {
                return;
            }

            if (tunnel.ProxyProtocol != ConnetProxyProtocol.None && remote is not null && local is not null)
            {
                byte[] header = ProxyProtocolHeader.Create(tunnel.ProxyProtocol, remote, local);
                await tunnel.WriteAsync(header, stopping).ConfigureAwait(false);
            }

            Stream spliced = tunnel;
            tunnel = null; // The splicer owns both from here.
            Stream callerSpliced = caller;
            caller = null;
            await StreamSplicer.SpliceAsync(callerSpliced, spliced, stopping).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is QuicException or IOException or SocketException or OperationCanceledException or ConnetProtocolException or ObjectDisposedException or AuthenticationException)
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

            if (caller is not null)
            {
                await caller.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The TLS server side of a caller; null (after logging why, the connection closed) when the handshake failed.</summary>
    private async Task<Stream?> AuthenticateAsync(Stream tcp, string clientName, CancellationToken stopping)
    {
        bool mutual = _clientAuthorities.Count > 0;
        var tls = new SslStream(tcp, leaveInnerStreamOpen: false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        deadline.CancelAfter(TlsHandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ClientCertificateRequired = mutual,
                    RemoteCertificateValidationCallback = mutual ? (_, certificate, _, _) => ClientCertificates.IsTrusted(_clientAuthorities, certificate) : null,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                },
                deadline.Token).ConfigureAwait(false);
            return tls;
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException or OperationCanceledException && !stopping.IsCancellationRequested)
        {
            Log.TlsHandshakeFailed(_logger, clientName, exception.Message);
            await tls.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4, LogLevel.Debug, "Tunnel for {Client} ended with an error: {Reason}")]
        public static partial void TunnelFailed(ILogger logger, string client, string reason);

        [LoggerMessage(5, LogLevel.Warning, "Accepting a TCP connection failed: {Reason}")]
        public static partial void AcceptFailed(ILogger logger, string reason);

        [LoggerMessage(7, LogLevel.Warning, "TLS handshake with {Client} failed: {Reason}")]
        public static partial void TlsHandshakeFailed(ILogger logger, string client, string reason);
    }
}
