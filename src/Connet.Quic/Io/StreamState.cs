namespace Connet.Quic.Io;

/// <summary>
/// The driver's bookkeeping for one stream: waiters parked until the core reports progress, and how each direction
/// ended. Guarded by the connection lock; every completion runs its continuation asynchronously, off that lock.
/// </summary>
internal sealed class StreamState(long id, bool canRead, bool canWrite)
{
    private TaskCompletionSource? _readWaiter;
    private TaskCompletionSource? _writeWaiter;

    public long Id { get; } = id;

    public bool CanRead { get; } = canRead;

    public bool CanWrite { get; } = canWrite;

    public TaskCompletionSource ReadsClosed { get; } = NewCompletion(!canRead);

    public TaskCompletionSource WritesClosed { get; } = NewCompletion(!canWrite);

    /// <summary>The FIN was read: reads return 0 from now on.</summary>
    public bool ReadFinished { get; set; }

    /// <summary>The FIN was queued: no more writes.</summary>
    public bool WriteFinished { get; set; }

    public bool ReadAborted { get; set; }

    public bool WriteAborted { get; set; }

    public bool Released { get; set; }

    /// <summary>The peer's RESET_STREAM code.</summary>
    public ulong? PeerResetCode { get; set; }

    /// <summary>The peer's STOP_SENDING code.</summary>
    public ulong? PeerStopCode { get; set; }

    public Task WaitReadable() => (_readWaiter ??= NewCompletion(false)).Task;

    public Task WaitWritable() => (_writeWaiter ??= NewCompletion(false)).Task;

    public void WakeReader()
    {
        TaskCompletionSource? waiter = _readWaiter;
        _readWaiter = null;
        waiter?.TrySetResult();
    }

    public void WakeWriter()
    {
        TaskCompletionSource? waiter = _writeWaiter;
        _writeWaiter = null;
        waiter?.TrySetResult();
    }

    /// <summary>The connection ended: both directions end with <paramref name="exception"/> unless they already ended.</summary>
    public void Fail(QuicException exception)
    {
        ReadsClosed.TrySetException(exception);
        WritesClosed.TrySetException(exception);
        ObserveFaults();
        WakeReader();
        WakeWriter();
    }

    /// <summary>Nobody may ever await these; keep their faults from surfacing as unobserved task exceptions.</summary>
    public void ObserveFaults()
    {
        _ = ReadsClosed.Task.Exception;
        _ = WritesClosed.Task.Exception;
    }

    private static TaskCompletionSource NewCompletion(bool completed)
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            completion.SetResult();
        }

        return completion;
    }
}
