using Connet.Quic.Io;

namespace Connet.Quic;

/// <summary>One QUIC stream as a <see cref="Stream"/> (System.Net.Quic's shape).</summary>
public sealed class QuicStream : Stream
{
    private readonly ConnectionDriver _driver;
    private readonly StreamState _state;
    private int _disposed;

    internal QuicStream(ConnectionDriver driver, StreamState state)
    {
        _driver = driver;
        _state = state;
    }

    public long Id => _state.Id;

    public QuicStreamType Type => (_state.Id & 2) != 0 ? QuicStreamType.Unidirectional : QuicStreamType.Bidirectional;

    /// <summary>Completes when the peer's data has all been read, faults when reading ended otherwise.</summary>
    public Task ReadsClosed => _state.ReadsClosed.Task;

    /// <summary>Completes when everything written, FIN included, was acknowledged; faults when writing ended otherwise.</summary>
    public Task WritesClosed => _state.WritesClosed.Task;

    public override bool CanRead => _state.CanRead && !IsDisposed;

    public override bool CanWrite => _state.CanWrite && !IsDisposed;

    public override bool CanSeek => false;

    public override bool CanTimeout => true;

    public override int ReadTimeout { get; set; } = Timeout.Infinite;

    public override int WriteTimeout { get; set; } = Timeout.Infinite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return _driver.ReadAsync(_state, buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        WriteAsync(buffer, completeWrites: false, cancellationToken);

    /// <summary>Writes and, with <paramref name="completeWrites"/>, sends the FIN with the last byte.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return _driver.WriteAsync(_state, buffer, completeWrites, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        byte[] temporary = new byte[buffer.Length];
        using CancellationTokenSource? timeout = TimeoutSource(ReadTimeout);
        int read = ReadAsync(temporary, timeout?.Token ?? default).AsTask().GetAwaiter().GetResult();
        temporary.AsSpan(0, read).CopyTo(buffer);
        return read;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        using CancellationTokenSource? timeout = TimeoutSource(WriteTimeout);
        WriteAsync(buffer.ToArray(), timeout?.Token ?? default).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Sends the FIN after what was written so far.</summary>
    public void CompleteWrites() => _driver.CompleteWrites(_state);

    /// <summary>Abandons reading (STOP_SENDING) and/or writing (RESET_STREAM) with an application error code.</summary>
    public void Abort(QuicAbortDirection abortDirection, long errorCode)
    {
        OptionsValidation.ErrorCode(errorCode, nameof(errorCode), nameof(errorCode));
        _driver.Abort(_state, abortDirection, errorCode);
    }

    /// <summary>Data is sent as soon as congestion control allows; there is nothing to flush.</summary>
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override string ToString() => $"QUIC stream {Id} ({Type})";

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _driver.Release(_state);
        }

        base.Dispose(disposing);
    }

    private static CancellationTokenSource? TimeoutSource(int milliseconds) =>
        milliseconds == Timeout.Infinite ? null : new CancellationTokenSource(milliseconds);
}
