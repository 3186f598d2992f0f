using Connet.Core.Tunnels;

namespace Connet.Client.Tunnels.Sources;

/// <summary>
/// A tunnel a source opened to one destination peer: the stream for the tunnelled bytes, what the destination asked
/// for (a PROXY header), and which peer it is. Disposing it disposes the stream and ends its count in the
/// least-connections tally; it forwards half-close and abort to the stream it wraps.
/// </summary>
internal sealed class SourceTunnel : Stream, IHalfClosable
{
    private readonly Stream _inner;
    private Action? _release;

    public SourceTunnel(Stream inner, ConnetProxyProtocol proxyProtocol, string destination, Action? release)
    {
        _inner = inner;
        ProxyProtocol = proxyProtocol;
        Destination = destination;
        _release = release;
    }

    /// <summary>The PROXY header the destination wants in front of the tunnelled bytes.</summary>
    public ConnetProxyProtocol ProxyProtocol { get; }

    /// <summary>The destination peer (and path) the tunnel was opened to, for logs.</summary>
    public string Destination { get; }

    public override bool CanRead => _inner.CanRead;

    public override bool CanWrite => _inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public ValueTask CompleteWritesAsync(CancellationToken cancellationToken) => StreamSplicer.CompleteWritesAsync(_inner, cancellationToken);

    public void Abort() => StreamSplicer.Abort(_inner);

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _release, null)?.Invoke();
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Interlocked.Exchange(ref _release, null)?.Invoke();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
