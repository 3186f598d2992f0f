using System.Buffers;
using Connet.Client.Peers;
using Connet.Core.Tunnels;

namespace Connet.Client.Tunnels;

/// <summary>
/// <see cref="StreamSplicer"/> for tunnels that may be encrypted relay streams: the same half-close-aware copy both
/// ways, but the end of input on one side becomes <see cref="RelayTunnelStream.CompleteWritesAsync"/> when the other
/// side is encrypted (StreamSplicer only knows QUIC and TCP half-closes). Plain pairs go to StreamSplicer itself.
/// </summary>
internal static class TunnelSplicer
{
    private const int BufferSize = 64 * 1024;

    public static async Task SpliceAsync(Stream left, Stream right, CancellationToken cancellationToken)
    {
        if (left is not RelayTunnelStream && right is not RelayTunnelStream)
        {
            await StreamSplicer.SpliceAsync(left, right, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task leftToRight = CopyThenCompleteAsync(left, right, failed.Token);
            Task rightToLeft = CopyThenCompleteAsync(right, left, failed.Token);
            Task first = await Task.WhenAny(leftToRight, rightToLeft).ConfigureAwait(false);
            if (!first.IsCompletedSuccessfully)
            {
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

    public static void Abort(Stream stream)
    {
        if (stream is RelayTunnelStream relayed)
        {
            try
            {
                relayed.Abort();
            }
            catch (Exception exception) when (exception is ObjectDisposedException or InvalidOperationException or IOException)
            {
                // Already closed or failed: nothing left to abort.
            }
        }
        else
        {
            StreamSplicer.Abort(stream);
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
                    if (destination is RelayTunnelStream relayed)
                    {
                        await relayed.CompleteWritesAsync(cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        StreamSplicer.CompleteWrites(destination);
                    }

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
