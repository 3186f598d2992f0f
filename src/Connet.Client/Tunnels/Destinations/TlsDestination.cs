using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Connet.Core.Tunnels;

namespace Connet.Client.Tunnels.Destinations;

/// <summary>The destination target of a <c>tls://host:port</c> URL: a TCP connect and a TLS client handshake per tunnel.</summary>
internal static class TlsDestination
{
    /// <summary>A dial function for <see cref="Peers.PeerRequestServer"/> that connects to <paramref name="url"/> and authenticates it with <paramref name="tls"/>.</summary>
    /// <param name="dialTimeout">Bounds the TCP connect and the handshake together; <see cref="TimeSpan.Zero"/> adds no limit of our own.</param>
    public static Func<CancellationToken, ValueTask<Stream>> Dialer(TunnelUrl url, TargetTls tls, TimeSpan dialTimeout) =>
        cancellationToken => DialAsync(url, tls, dialTimeout, cancellationToken);

    private static async ValueTask<Stream> DialAsync(TunnelUrl url, TargetTls tls, TimeSpan dialTimeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (dialTimeout > TimeSpan.Zero)
        {
            deadline.CancelAfter(dialTimeout);
        }

        Socket socket = await TcpDestination.ConnectAsync(url.Host, url.Port, TimeSpan.Zero, deadline.Token).ConfigureAwait(false);
        var transport = new NetworkStream(socket, ownsSocket: true);
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(tls.Apply(new SslClientAuthenticationOptions()), deadline.Token).ConfigureAwait(false);
            return new TlsTargetStream(ssl, socket);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"connecting to {url} took longer than the dial timeout of {dialTimeout.TotalSeconds:0.###} s");
        }
        catch (AuthenticationException exception)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new AuthenticationException($"the TLS handshake with {url} failed: {exception.Message}", exception);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>A TLS connection to a target that passes half-closes: close_notify, then a TCP FIN, while reads go on.</summary>
internal sealed class TlsTargetStream(SslStream ssl, Socket socket) : Stream, IHalfClosable
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public async ValueTask CompleteWritesAsync(CancellationToken cancellationToken)
    {
        await ssl.ShutdownAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        socket.Shutdown(SocketShutdown.Send);
    }

    public void Abort()
    {
        // Linger zero makes the close a RST, so the target learns the tunnel failed rather than ended.
        socket.LingerState = new LingerOption(true, 0);
        ssl.Dispose();
    }

    public override int Read(byte[] buffer, int offset, int count) => ssl.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ssl.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ssl.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => ssl.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ssl.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ssl.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => ssl.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => ssl.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ssl.Dispose();
        }

        base.Dispose(disposing);
    }
}
