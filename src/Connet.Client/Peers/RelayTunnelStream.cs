using System.Net.Security;
using Connet.Core.Protocol;
using Connet.Core.Tunnels;
using Connet.Quic;

namespace Connet.Client.Peers;

/// <summary>
/// An encrypted relayed tunnel (an <see cref="SslStream"/> or a <see cref="Core.Crypto.DhxcpStream"/> over the
/// relay's QUIC stream) that can still half-close: <see cref="CompleteWritesAsync"/> ends our direction (TLS
/// close_notify, then QUIC FIN) while the other keeps flowing, which <see cref="StreamSplicer"/> relies on.
/// Disposing disposes the encryption layer and the QUIC stream.
/// </summary>
internal sealed class RelayTunnelStream(Stream encrypted, QuicStream transport) : Stream, IHalfClosable
{
    public override bool CanRead => encrypted.CanRead;

    public override bool CanWrite => encrypted.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Sends the end of our direction after everything written so far.</summary>
    public async ValueTask CompleteWritesAsync(CancellationToken cancellationToken)
    {
        if (encrypted is SslStream tls)
        {
            await tls.ShutdownAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await encrypted.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        transport.CompleteWrites();
    }

    /// <summary>Abandons the tunnel: resets the QUIC stream both ways.</summary>
    public void Abort() => transport.Abort(QuicAbortDirection.Both, (long)ConnetErrorCode.Unknown);

    public override int Read(byte[] buffer, int offset, int count) => encrypted.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => encrypted.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => encrypted.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => encrypted.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => encrypted.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => encrypted.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => encrypted.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => encrypted.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await encrypted.DisposeAsync().ConfigureAwait(false);
        await transport.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            encrypted.Dispose();
            transport.Dispose();
        }

        base.Dispose(disposing);
    }
}
