using System.Net;
using System.Threading.Channels;
using Connet.Quic.Core;
using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Endpoint;
using Microsoft.Extensions.Logging;

namespace Connet.Quic.Io;

/// <summary>
/// Runs one sans-IO <see cref="Connection"/>: serialises every call into it under <see cref="Lock"/>, and after each
/// input drains its outputs (datagrams, timer, routing, events). Waiters complete asynchronously so no user
/// continuation ever runs under the lock.
/// </summary>
internal sealed partial class ConnectionDriver
{
    /// <summary>Datagrams sent per drive before yielding the thread, so one busy connection cannot starve the others.</summary>
    private const int MaxDatagramsPerDrive = 32;

    private const int DatagramBufferSize = 1500;

    private readonly EndpointDriver _endpoint;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Dictionary<long, StreamState> _streams = [];
    private readonly Channel<StreamState> _inboundStreams = Channel.CreateUnbounded<StreamState>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Connection? _connection;
    private TaskCompletionSource? _bidirectionalAvailable;
    private TaskCompletionSource? _unidirectionalAvailable;
    private QuicException? _failure;
    private Instant _armedTimeout = Instant.Never;
    private bool _drained;
    private bool _driveScheduled;
    private bool _deferredDrive;

    public ConnectionDriver(EndpointDriver endpoint, ConnectionHandle handle, IPEndPoint remote, bool isClient)
    {
        _endpoint = endpoint;
        _logger = endpoint.Logger;
        Handle = handle;
        RemoteEndPoint = remote;
        IsClient = isClient;
        _timer = endpoint.TimeProvider.CreateTimer(static state => ((ConnectionDriver)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Guards the connection and all of this driver's state.</summary>
    public Lock Lock { get; } = new();

    public ConnectionHandle Handle { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public bool IsClient { get; }

    public EndpointDriver Endpoint => _endpoint;

    /// <summary>The public object wrapping this driver (set by its constructor).</summary>
    public QuicConnection Owner { get; set; } = null!;

    /// <summary>Completes when the handshake does; faults with the close reason if the connection ends first.</summary>
    public Task Handshake => _handshake.Task;

    /// <summary>Completes once the connection is closed (for whatever reason) and no more events follow.</summary>
    public Task Closed => _closed.Task;

    public long DefaultStreamErrorCode { get; set; }

    public long DefaultCloseErrorCode { get; set; }

    /// <summary>Hands the driver its connection and processes <paramref name="firstDatagram"/> (a server's first Initial), if any.</summary>
    public void Attach(Connection connection, Instant now, IPEndPoint remote, Span<byte> firstDatagram)
    {
        lock (Lock)
        {
            if (_failure is not null)
            {
                return;
            }

            _connection = connection;
            QuicMetrics.ConnectionOpened();
            QuicLog.ConnectionCreated(_logger, RemoteEndPoint, IsClient);
            try
            {
                if (!firstDatagram.IsEmpty)
                {
                    connection.HandleDatagram(now, remote, firstDatagram);
                }

                Drive();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                FailFromCore(exception);
            }
        }
    }

    public void HandleDatagram(Instant now, IPEndPoint remote, Span<byte> datagram)
    {
        lock (Lock)
        {
            if (_connection is null || _drained)
            {
                return;
            }

            try
            {
                _connection.HandleDatagram(now, remote, datagram);
                Drive();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                FailFromCore(exception);
            }
        }
    }

    /// <summary>
    /// Feeds a datagram without draining the outputs, so a burst of datagrams gets one drive (one ACK, one batch of
    /// sends). Returns true when the caller must call <see cref="DriveDeferred"/> (once, however many datagrams).
    /// </summary>
    public bool HandleDatagramDeferringDrive(Instant now, IPEndPoint remote, Span<byte> datagram)
    {
        lock (Lock)
        {
            if (_connection is null || _drained)
            {
                return false;
            }

            try
            {
                _connection.HandleDatagram(now, remote, datagram);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                FailFromCore(exception);
                return false;
            }

            bool first = !_deferredDrive;
            _deferredDrive = true;
            return first;
        }
    }

    /// <summary>
    /// Applies the events of datagrams fed by <see cref="HandleDatagramDeferringDrive"/> whose drive has not run yet;
    /// the caller holds <see cref="Lock"/>. Without it a write could reach the core after the core reset the stream
    /// for a peer's STOP_SENDING but before the stream object heard of it.
    /// </summary>
    private void CatchUpWithDeferredEvents()
    {
        if (!_deferredDrive || _connection is not { } connection)
        {
            return;
        }

        while (connection.PollEvent(out ConnectionEvent connectionEvent))
        {
            HandleEvent(connection, connectionEvent);
        }
    }

    /// <summary>Drains the outputs of the datagrams fed by <see cref="HandleDatagramDeferringDrive"/>.</summary>
    public void DriveDeferred()
    {
        lock (Lock)
        {
            _deferredDrive = false;
            GuardedDrive();
        }
    }

    /// <summary>Ends everything with <paramref name="exception"/> and stops feeding the core (its endpoint is gone).</summary>
    public void Abort(QuicException exception)
    {
        lock (Lock)
        {
            OnClosed(exception);
            _drained = true;
            ReleaseCore();
        }
    }

    /// <summary>
    /// Closes with the default close code (sending CONNECTION_CLOSE) and fails what waits on the connection, but keeps
    /// driving the core through its closing period so it can drain and give up its routes.
    /// </summary>
    public void CloseAndAbandon(string what)
    {
        lock (Lock)
        {
            if (_connection is not null && _failure is null && !_drained)
            {
                try
                {
                    _connection.Close(_endpoint.Now, (ulong)DefaultCloseErrorCode, $"{what} closed");
                    Drive();
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    FailFromCore(exception);
                }
            }

            OnClosed(QuicException.OperationAborted(what));
        }
    }

    public async ValueTask CloseAsync(long errorCode, CancellationToken cancellationToken)
    {
        Task closed;
        lock (Lock)
        {
            if (_connection is null)
            {
                OnClosed(QuicException.OperationAborted("connection"));
            }
            else if (_failure is null && !_drained)
            {
                _connection.Close(_endpoint.Now, (ulong)errorCode, string.Empty);
                Drive();
            }

            closed = _closed.Task;
        }

        await closed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a connection property under the lock, once the handshake has made it meaningful.</summary>
    public T Read<T>(Func<Connection, T> getter, T fallback)
    {
        lock (Lock)
        {
            return _connection is not null && _handshake.Task.IsCompletedSuccessfully ? getter(_connection) : fallback;
        }
    }

    /// <summary>Drains the connection's outputs; the caller holds <see cref="Lock"/>.</summary>
    private void Drive()
    {
        Connection? connection = _connection;
        if (connection is null || _drained)
        {
            return;
        }

        Instant now = _endpoint.Now;

        // Consecutive datagrams of one size to one peer go out together: one system call with UDP GSO.
        byte[] batch = SendBatch.RentBuffer();
        var pending = new SendBatch(batch);
        try
        {
            for (int sent = 0; ; sent++)
            {
                if (sent == MaxDatagramsPerDrive)
                {
                    ScheduleDrive();
                    break;
                }

                if (batch.Length - pending.Length < DatagramBufferSize)
                {
                    pending.Flush(_endpoint);
                }

                int length = connection.PollTransmit(now, batch.AsSpan(pending.Length, DatagramBufferSize), out IPEndPoint destination);
                if (length == 0)
                {
                    break;
                }

                // Routes first: the peer may answer a freshly issued connection ID before this method returns.
                DrainEndpointEvents(connection);
                pending.Add(_endpoint, length, destination);
            }

            pending.Flush(_endpoint);
        }
        finally
        {
            SendBatch.ReturnBuffer(batch);
        }

        ArmTimer(connection.PollTimeout(), now);
        DrainEndpointEvents(connection);
        while (connection.PollEvent(out ConnectionEvent connectionEvent))
        {
            HandleEvent(connection, connectionEvent);
        }

        if (_drained)
        {
            OnClosed(CloseInfoMapping.ToException(connection.CloseInfo));
            ReleaseCore();
        }
    }

    private void DrainEndpointEvents(Connection connection)
    {
        while (connection.PollEndpointEvent(out EndpointEvent endpointEvent))
        {
            if (!_endpoint.ApplyEndpointEvent(this, endpointEvent))
            {
                // Drive reports the close once the remaining events are handled, so the real reason wins.
                _drained = true;
            }
        }
    }

    private void ScheduleDrive()
    {
        if (_driveScheduled)
        {
            return;
        }

        _driveScheduled = true;
        ThreadPool.UnsafeQueueUserWorkItem(
            static driver =>
            {
                lock (driver.Lock)
                {
                    driver._driveScheduled = false;
                    driver.GuardedDrive();
                }
            },
            this,
            preferLocal: false);
    }

    private void GuardedDrive()
    {
        try
        {
            Drive();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            FailFromCore(exception);
        }
    }

    private void ArmTimer(Instant deadline, Instant now)
    {
        if (deadline == _armedTimeout)
        {
            return;
        }

        _armedTimeout = deadline;
        if (deadline == Instant.Never)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        TimeSpan due = deadline - now;

        // Timers tick in milliseconds: round up, since firing early only costs a wasted wake-up and a re-arm.
        _timer.Change(due <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Ceiling(due.TotalMilliseconds)), Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        lock (Lock)
        {
            if (_connection is null || _drained)
            {
                return;
            }

            // Forget the armed deadline: if the timer fired early the core returns it again and it must be re-armed.
            _armedTimeout = Instant.Never;
            try
            {
                _connection.HandleTimeout(_endpoint.Now);
                Drive();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                FailFromCore(exception);
            }
        }
    }

    /// <summary>The core is finished: stop its timer and release its keys (certificates and stream data stay readable).</summary>
    private void ReleaseCore()
    {
        _timer.Dispose();
        _connection?.Dispose();
    }

    private void FailFromCore(Exception exception)
    {
        QuicLog.ConnectionCoreFailed(_logger, RemoteEndPoint, exception);
        OnClosed(new QuicException(QuicError.InternalError, null, null, $"The QUIC protocol core failed: {exception.Message}", exception));
        _drained = true;
        ReleaseCore();
        _endpoint.Forget(this);
    }

    private void HandleEvent(Connection connection, in ConnectionEvent connectionEvent)
    {
        StreamState? stream = _streams.GetValueOrDefault(connectionEvent.StreamId);
        switch (connectionEvent.Kind)
        {
            case ConnectionEventKind.HandshakeCompleted:
                _handshake.TrySetResult();
                if (!IsClient)
                {
                    _endpoint.OnServerHandshakeCompleted(this);
                }

                break;
            case ConnectionEventKind.StreamOpened:
                if (stream is null)
                {
                    stream = AddStream(connectionEvent.StreamId);
                    _inboundStreams.Writer.TryWrite(stream);
                }

                break;
            case ConnectionEventKind.StreamReadable:
                stream?.WakeReader();
                break;
            case ConnectionEventKind.StreamWritable:
                stream?.WakeWriter();
                break;
            case ConnectionEventKind.StreamReset when stream is not null:
                stream.PeerResetCode = connectionEvent.ErrorCode;
                stream.ReadsClosed.TrySetException(StreamAborted(connectionEvent.ErrorCode, "reset the stream"));
                stream.ObserveFaults();
                stream.WakeReader();
                break;
            case ConnectionEventKind.StreamStopped when stream is not null:
                stream.PeerStopCode = connectionEvent.ErrorCode;
                stream.WritesClosed.TrySetException(StreamAborted(connectionEvent.ErrorCode, "stopped reading the stream"));
                stream.ObserveFaults();
                stream.WakeWriter();
                break;
            case ConnectionEventKind.StreamWritesCompleted:
                stream?.WritesClosed.TrySetResult();
                break;
            case ConnectionEventKind.StreamsAvailable:
                WakeStreamsAvailable(connectionEvent.StreamId == 0);
                break;
            case ConnectionEventKind.ConnectionClosed:
                OnClosed(CloseInfoMapping.ToException(connection.CloseInfo));
                break;
            default:
                break;
        }
    }

    private void WakeStreamsAvailable(bool bidirectional)
    {
        ref TaskCompletionSource? waiter = ref bidirectional ? ref _bidirectionalAvailable : ref _unidirectionalAvailable;
        TaskCompletionSource? woken = waiter;
        waiter = null;
        woken?.TrySetResult();
    }

    /// <summary>Ends every waiter with <paramref name="exception"/>; only the first reason counts.</summary>
    private void OnClosed(QuicException exception)
    {
        if (_failure is not null)
        {
            return;
        }

        _failure = exception;
        if (!_handshake.Task.IsCompleted)
        {
            QuicMetrics.HandshakeFailed();
            QuicLog.HandshakeFailed(_logger, RemoteEndPoint, exception.Message);
            if (!IsClient)
            {
                _endpoint.OnServerConnectionAbandoned(this);
            }
        }

        if (_connection is not null)
        {
            QuicMetrics.ConnectionClosed();
        }

        QuicLog.ConnectionClosed(_logger, RemoteEndPoint, exception.Message);
        _handshake.TrySetException(exception);
        _ = _handshake.Task.Exception;
        _inboundStreams.Writer.TryComplete(exception);
        _bidirectionalAvailable?.TrySetException(exception);
        _unidirectionalAvailable?.TrySetException(exception);
        foreach (StreamState stream in _streams.Values)
        {
            stream.Fail(exception);
        }

        _closed.TrySetResult();
    }

    private static QuicException StreamAborted(ulong errorCode, string what) =>
        new(QuicError.StreamAborted, (long)errorCode, null, $"The peer {what} with application error {errorCode}.");
}
