using System.Buffers;
using System.Net.Sockets;
using Connet.Core.Protocol;
using Connet.Quic;

namespace Connet.Core.Tunnels;

/// <summary>
/// Copies bytes both ways between two streams (a QUIC tunnel stream and a TCP connection) until both directions have
/// ended. Half-close aware: the end of one side's input becomes a FIN (QUIC CompleteWrites / TCP Shutdown(Send)) on
/// the other side, and the opposite direction carries on. A failure in either direction aborts both streams. Both
/// streams are disposed when splicing returns.
/// </summary>
public static class StreamSplicer
{
    /// <summary>Large enough to fill a QUIC packet train or a TCP segment burst per read; pooled.</summary>
    private const int BufferSize = 64 * 1024;

    /// <summary>Returns when both directions ended; throws the first failure (after aborting both streams) or on cancellation.</summary>
    public static async Task SpliceAsync(Stream left, Stream right, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        try
        {
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task leftToRight = CopyThenCompleteAsync(left, right, failed.Token);
            Task rightToLeft = CopyThenCompleteAsync(right, left, failed.Token);
            Task first = await Task.WhenAny(leftToRight, rightToLeft).ConfigureAwait(false);
            if (!first.IsCompletedSuccessfully)
            {
                // One direction broke (reset, cancellation): the tunnel is unusable, so tear down the other direction too
                // instead of waiting for it to notice on its own.
                Abort(left);
                Abort(right);
                await failed.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                await Task.WhenAll(leftToRight, rightToLeft).ConfigureAwait(false);
            }
            catch (Exception) when (!first.IsCompletedSuccessfully)
            {
                // Report the failure that started the teardown, not the cancellation it caused.
                await first.ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            await left.DisposeAsync().ConfigureAwait(false);
            await right.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends the end of stream after what was written: FIN on QUIC, shutdown(SHUT_WR) on TCP, the layer's own end for
    /// an <see cref="IHalfClosable"/>.
    /// </summary>
    public static async ValueTask CompleteWritesAsync(Stream stream, CancellationToken cancellationToken)
    {
        switch (stream)
        {
            case IHalfClosable layered:
                await layered.CompleteWritesAsync(cancellationToken).ConfigureAwait(false);
                break;
            case QuicStream quic:
                quic.CompleteWrites();
                break;
            case NetworkStream network:
                network.Socket.Shutdown(SocketShutdown.Send);
                break;
            default:
                // A stream without a half-close cannot tell the other side; it ends when both directions are done.
                break;
        }
    }

    /// <summary>Abandons a stream abruptly: RESET_STREAM/STOP_SENDING on QUIC, a closed socket elsewhere.</summary>
    public static void Abort(Stream stream)
    {
        try
        {
            if (stream is IHalfClosable layered)
            {
                layered.Abort();
            }
            else if (stream is QuicStream quic)
            {
                quic.Abort(QuicAbortDirection.Both, (long)ConnetErrorCode.Unknown);
            }
            else
            {
                stream.Dispose();
            }
        }
        catch (Exception exception) when (exception is ObjectDisposedException or QuicException or IOException or SocketException or InvalidOperationException)
        {
            // Already closed or failed: nothing left to abort.
        }
    }

    private static async Task CopyThenCompleteAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    await CompleteWritesAsync(destination, cancellationToken).ConfigureAwait(false);
                    return;
                }

                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
