using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Connet.Quic.Io;

/// <summary>The stream operations of the public API, each one call into the core under the lock plus a wait.</summary>
internal sealed partial class ConnectionDriver
{
    public async ValueTask<StreamState> OpenStreamAsync(bool bidirectional, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task wait;
            lock (Lock)
            {
                ThrowIfClosed();
                if (!_handshake.Task.IsCompletedSuccessfully)
                {
                    wait = _handshake.Task;
                }
                else if (_connection!.TryOpenStream(bidirectional, out long streamId))
                {
                    return AddStream(streamId);
                }
                else
                {
                    ref TaskCompletionSource? waiter = ref bidirectional ? ref _bidirectionalAvailable : ref _unidirectionalAvailable;
                    waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = waiter.Task;
                }
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<StreamState> AcceptStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _inboundStreams.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException exception)
        {
            throw exception.InnerException as QuicException ?? QuicException.OperationAborted("connection");
        }
    }

    // Pooled builders: these run once per read or write, and a box per call was most of the data path's garbage.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(StreamState stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task wait;
            lock (Lock)
            {
                if (stream.ReadFinished)
                {
                    return 0;
                }

                ThrowIfReadUnavailable(stream);
                if (buffer.IsEmpty)
                {
                    return 0;
                }

                int read = _connection!.ReadStream(stream.Id, buffer.Span, out bool fin);
                if (read > 0 || fin)
                {
                    if (fin)
                    {
                        stream.ReadFinished = true;
                        stream.ReadsClosed.TrySetResult();
                    }

                    // Reading frees receive window: let the core send MAX_STREAM_DATA / MAX_DATA if it wants.
                    GuardedDrive();
                    return read;
                }

                wait = stream.WaitReadable();
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Queues all of <paramref name="data"/>, waiting for send buffer space as needed; with <paramref name="fin"/> the
    /// FIN goes with the last byte (or alone for empty data).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(StreamState stream, ReadOnlyMemory<byte> data, bool fin, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task wait;
            lock (Lock)
            {
                CatchUpWithDeferredEvents();
                ThrowIfWriteUnavailable(stream);
                if (data.IsEmpty)
                {
                    if (fin)
                    {
                        _connection!.WriteStream(stream.Id, ReadOnlySpan<byte>.Empty, fin: true);
                        stream.WriteFinished = true;
                        GuardedDrive();
                    }

                    return;
                }

                // The core applies FIN only when it takes every byte offered.
                int written = _connection!.WriteStream(stream.Id, data.Span, fin);
                data = data[written..];
                if (written > 0)
                {
                    GuardedDrive();
                }

                if (data.IsEmpty)
                {
                    stream.WriteFinished |= fin;
                    return;
                }

                wait = stream.WaitWritable();
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Queues the FIN; a no-op when writing already ended in any way (idempotent like System.Net.Quic's).</summary>
    public void CompleteWrites(StreamState stream)
    {
        lock (Lock)
        {
            CatchUpWithDeferredEvents();
            if (_connection is null || _failure is not null || stream.Released || !stream.CanWrite
                || stream.WriteFinished || stream.WriteAborted || stream.PeerStopCode is not null)
            {
                return;
            }

            _connection.WriteStream(stream.Id, ReadOnlySpan<byte>.Empty, fin: true);
            stream.WriteFinished = true;
            GuardedDrive();
        }
    }

    public void Abort(StreamState stream, QuicAbortDirection direction, long errorCode)
    {
        lock (Lock)
        {
            if (_connection is null || _failure is not null || stream.Released)
            {
                return;
            }

            if ((direction & QuicAbortDirection.Read) != 0 && stream.CanRead && !stream.ReadFinished && !stream.ReadAborted && stream.PeerResetCode is null)
            {
                stream.ReadAborted = true;
                _connection.StopSending(stream.Id, (ulong)errorCode);
                stream.ReadsClosed.TrySetException(QuicException.OperationAborted("stream's reading side"));
                stream.ObserveFaults();
                stream.WakeReader();
            }

            if ((direction & QuicAbortDirection.Write) != 0 && stream.CanWrite && !stream.WriteAborted && !stream.WritesClosed.Task.IsCompleted)
            {
                stream.WriteAborted = true;
                _connection.ResetStream(stream.Id, (ulong)errorCode);
                stream.WritesClosed.TrySetException(QuicException.OperationAborted("stream's writing side"));
                stream.ObserveFaults();
                stream.WakeWriter();
            }

            GuardedDrive();
        }
    }

    /// <summary>
    /// Disposal of a stream: finish writing gracefully unless aborted, stop reading with the default code unless the
    /// data was all read, and let the core free the stream.
    /// </summary>
    public void Release(StreamState stream)
    {
        lock (Lock)
        {
            if (stream.Released)
            {
                return;
            }

            stream.Released = true;
            _streams.Remove(stream.Id);
            if (_connection is null || _failure is not null)
            {
                return;
            }

            if (stream.CanWrite && !stream.WriteFinished && !stream.WriteAborted && stream.PeerStopCode is null)
            {
                _connection.WriteStream(stream.Id, ReadOnlySpan<byte>.Empty, fin: true);
                stream.WriteFinished = true;
            }

            if (stream.CanRead && !stream.ReadFinished && !stream.ReadAborted && stream.PeerResetCode is null)
            {
                stream.ReadAborted = true;
                _connection.StopSending(stream.Id, (ulong)DefaultStreamErrorCode);
                stream.ReadsClosed.TrySetException(QuicException.OperationAborted("stream"));
            }

            stream.ObserveFaults();
            _connection.ReleaseStream(stream.Id);
            GuardedDrive();
        }
    }

    /// <summary>True for streams whose ID says we opened them (bit 0 is the initiator: 0 client, 1 server).</summary>
    public bool IsLocallyInitiated(long streamId) => (streamId & 1) == (IsClient ? 0 : 1);

    private StreamState AddStream(long streamId)
    {
        bool unidirectional = (streamId & 2) != 0;
        bool local = IsLocallyInitiated(streamId);
        var stream = new StreamState(streamId, canRead: !unidirectional || !local, canWrite: !unidirectional || local);
        _streams[streamId] = stream;
        return stream;
    }

    private void ThrowIfClosed()
    {
        if (_failure is not null)
        {
            throw _failure;
        }
    }

    private void ThrowIfReadUnavailable(StreamState stream)
    {
        if (!stream.CanRead)
        {
            throw new InvalidOperationException("This stream cannot be read: it is a unidirectional stream we opened.");
        }

        if (stream.PeerResetCode is ulong code)
        {
            throw StreamAborted(code, "reset the stream");
        }

        if (stream.ReadAborted || stream.Released)
        {
            throw QuicException.OperationAborted("stream's reading side");
        }

        ThrowIfClosed();
    }

    private void ThrowIfWriteUnavailable(StreamState stream)
    {
        if (!stream.CanWrite)
        {
            throw new InvalidOperationException("This stream cannot be written: it is a unidirectional stream the peer opened.");
        }

        if (stream.PeerStopCode is ulong code)
        {
            throw StreamAborted(code, "stopped reading the stream");
        }

        if (stream.WriteAborted || stream.Released)
        {
            throw QuicException.OperationAborted("stream's writing side");
        }

        if (stream.WriteFinished)
        {
            throw new InvalidOperationException("Writing is not allowed on a stream whose writes were completed.");
        }

        ThrowIfClosed();
    }
}
