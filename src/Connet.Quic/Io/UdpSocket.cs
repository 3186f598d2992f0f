using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Connet.Quic.Io;

/// <summary>
/// One bound UDP socket with a dedicated receive thread using the allocation-free span overloads.
/// Sends may come from any thread.
/// </summary>
internal sealed class UdpSocket : IDisposable
{
    /// <summary>Large socket buffers absorb bursts that arrive while a connection lock is held.</summary>
    private const int SocketBufferSize = 4 * 1024 * 1024;

    private const int MaxDatagramSize = 65535;

    /// <summary>Datagrams handled before the receiver must answer them, bounding how long an answer can wait.</summary>
    private const int MaxDatagramsPerReceiveBatch = 64;

    private const int SolSocket = 1;
    private const int SoReceiveTimeout = 20;
    private const long ReceiveWakeUpMicroseconds = 200_000;

    private readonly Socket _socket;
    private readonly SocketAddressCache _addresses;
    private readonly ILogger _logger;
    private Thread? _receiveThread;
    private volatile bool _disposed;

    // Cleared for good when the kernel refuses a segmented send (old kernel, or a device without UDP GSO).
    private volatile bool _segmentationEnabled = LinuxUdp.IsSupported;

    public UdpSocket(IPEndPoint localEndPoint, ILogger logger)
    {
        _logger = logger;
        _socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (localEndPoint.AddressFamily == AddressFamily.InterNetworkV6 && localEndPoint.Address.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }

            TrySetBufferSizes();
            TrySetDontFragment();
            _socket.Bind(localEndPoint);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        _addresses = new SocketAddressCache(_socket.AddressFamily);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    public bool IsDualMode => _socket.AddressFamily == AddressFamily.InterNetworkV6 && _socket.DualMode;

    public void Start(IDatagramReceiver receiver)
    {
        _receiveThread = new Thread(() => ReceiveLoop(receiver))
        {
            IsBackground = true,
            Name = $"Connet.Quic UDP {LocalEndPoint}",
        };
        _receiveThread.Start();
    }

    /// <summary>Sends one datagram; false (logged) when the OS refused it, which QUIC treats like loss.</summary>
    public bool Send(ReadOnlySpan<byte> datagram, IPEndPoint remote)
    {
        if (_disposed)
        {
            return false;
        }

        try
        {
            _socket.SendTo(datagram, SocketFlags.None, _addresses.GetSocketAddress(remote));
            QuicMetrics.DatagramSent(datagram.Length);
            return true;
        }
        catch (SocketException exception)
        {
            QuicLog.SendFailed(_logger, remote, exception.SocketErrorCode);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Sends consecutive datagrams of <paramref name="segmentSize"/> bytes each (the last may be shorter) to one peer,
    /// in one system call where the OS can segment (UDP GSO), else one by one. False (logged) when the OS refused.
    /// </summary>
    public bool SendSegments(ReadOnlySpan<byte> datagrams, int segmentSize, IPEndPoint remote)
    {
        if (datagrams.Length <= segmentSize || !_segmentationEnabled)
        {
            return SendEach(datagrams, segmentSize, remote);
        }

        if (_disposed)
        {
            return false;
        }

        int error;
        try
        {
            SocketAddress address = _addresses.GetSocketAddress(remote);
            error = LinuxUdp.SendSegmented(_socket.SafeHandle, datagrams, address.Buffer.Span[..address.Size], segmentSize);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        if (error == 0)
        {
            for (int offset = 0; offset < datagrams.Length; offset += segmentSize)
            {
                QuicMetrics.DatagramSent(Math.Min(segmentSize, datagrams.Length - offset));
            }

            return true;
        }

        if (error is LinuxErrorNoBuffers or LinuxUdp.ErrorAgain)
        {
            // The queue is full: like loss, QUIC recovers; sending one by one now would only meet the same queue.
            QuicLog.SendFailed(_logger, remote, SocketError.NoBufferSpaceAvailable);
            return false;
        }

        if (error is LinuxErrorIo or LinuxErrorInvalid or LinuxErrorNoProtocolOption or LinuxErrorNotSupported)
        {
            // This socket (kernel, device) cannot segment: stop trying, and send these one by one.
            _segmentationEnabled = false;
            return SendEach(datagrams, segmentSize, remote);
        }

        // Unreachable, not permitted and the like: the same as for a single datagram.
        QuicLog.SendFailed(_logger, remote, SocketError.SocketError);
        return false;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _socket.Dispose();
        if (_receiveThread is not null && _receiveThread != Thread.CurrentThread)
        {
            _receiveThread.Join();
        }
    }

    private const int LinuxErrorIo = 5;
    private const int LinuxErrorInvalid = 22;
    private const int LinuxErrorNoProtocolOption = 92;
    private const int LinuxErrorNotSupported = 95;
    private const int LinuxErrorNoBuffers = 105;

    private bool SendEach(ReadOnlySpan<byte> datagrams, int segmentSize, IPEndPoint remote)
    {
        bool allSent = true;
        for (int offset = 0; offset < datagrams.Length; offset += segmentSize)
        {
            allSent &= Send(datagrams.Slice(offset, Math.Min(segmentSize, datagrams.Length - offset)), remote);
        }

        return allSent;
    }

    /// <summary>
    /// QUIC datagrams must not be fragmented (RFC 9000 §14): a PMTU probe that does not fit must be lost, not split,
    /// or its acknowledgement would claim a size the path cannot carry whole.
    /// </summary>
    private void TrySetDontFragment()
    {
        if (_socket.AddressFamily != AddressFamily.InterNetwork)
        {
            return;
        }

        try
        {
            _socket.DontFragment = true;
        }
        catch (SocketException)
        {
            // Not every platform lets us choose; the probe then proves less, which is all we lose.
        }
    }

    private void TrySetBufferSizes()
    {
        try
        {
            _socket.ReceiveBufferSize = SocketBufferSize;
            _socket.SendBufferSize = SocketBufferSize;
        }
        catch (SocketException)
        {
            // The OS caps or refuses big buffers on some systems; the defaults still work, just with more loss under load.
        }
    }

    private void ReceiveLoop(IDatagramReceiver receiver)
    {
        try
        {
            if (LinuxUdp.IsSupported)
            {
                ReceiveLoopLinux(receiver);
                return;
            }

            ReceiveLoopPortable(receiver);
        }
        catch (ObjectDisposedException)
        {
            // Disposed while the loop was still setting the socket up (an endpoint closed at once): nothing to receive.
            // An exception escaping this thread would end the process.
        }
    }

    /// <summary>
    /// Blocks for one datagram, then takes whatever else is already queued (up to a bound) before telling the receiver
    /// the batch is over; with UDP GRO one call can return many datagrams of one size from one peer.
    /// </summary>
    private void ReceiveLoopLinux(IDatagramReceiver receiver)
    {
        bool coalescing = TryEnableReceiveCoalescing();
        byte[] buffer = GC.AllocateUninitializedArray<byte>(MaxDatagramSize, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        int addressCapacity = from.Buffer.Length;
        int batched = 0;
        while (!_disposed)
        {
            from.Size = addressCapacity;
            int received;
            int addressLength;
            int segmentSize;
            try
            {
                received = LinuxUdp.Receive(_socket.SafeHandle, buffer, from.Buffer.Span, out addressLength, out segmentSize, wait: batched == 0);
            }
            catch (ObjectDisposedException exception)
            {
                if (!_disposed)
                {
                    receiver.OnSocketFailed(exception);
                }

                return;
            }

            if (received < 0)
            {
                int error = -received;
                if (batched > 0 && error == LinuxUdp.ErrorAgain)
                {
                    // Nothing more queued: let the receiver answer the burst, then block again.
                    FinishBatch(receiver);
                    batched = 0;
                    continue;
                }

                if (error is LinuxUdp.ErrorAgain or LinuxUdp.ErrorInterrupted || (IsTransientErrno(error) && !_disposed))
                {
                    // A receive timeout (so disposal is noticed), or an ICMP error for an earlier send.
                    continue;
                }

                if (!_disposed)
                {
                    receiver.OnSocketFailed(new SocketException(error));
                }

                return;
            }

            if (_disposed)
            {
                return;
            }

            from.Size = addressLength;
            IPEndPoint remote = _addresses.GetEndPoint(from);
            int step = coalescing && segmentSize > 0 ? segmentSize : Math.Max(received, 1);
            for (int offset = 0; offset < received || (received == 0 && offset == 0); offset += step)
            {
                int length = Math.Min(step, received - offset);
                QuicMetrics.DatagramReceived(length);
                Deliver(receiver, remote, buffer.AsSpan(offset, length));
                batched++;
            }

            if (batched >= MaxDatagramsPerReceiveBatch)
            {
                FinishBatch(receiver);
                batched = 0;
            }
        }
    }

    private void Deliver(IDatagramReceiver receiver, IPEndPoint remote, Span<byte> datagram)
    {
        try
        {
            receiver.OnDatagram(remote, datagram);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A bug handling one datagram must not kill the socket for every connection on it.
            QuicLog.DatagramHandlingFailed(_logger, LocalEndPoint, exception);
        }
    }

    private void FinishBatch(IDatagramReceiver receiver)
    {
        try
        {
            receiver.OnReceiveBatchCompleted();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            QuicLog.DatagramHandlingFailed(_logger, LocalEndPoint, exception);
        }
    }

    private bool TryEnableReceiveCoalescing()
    {
        try
        {
            // A blocking receive wakes up now and then so that disposal is noticed even if closing does not wake it.
            Span<byte> timeout = stackalloc byte[16];
            timeout.Clear();
            BitConverter.TryWriteBytes(timeout[8..], ReceiveWakeUpMicroseconds);
            _socket.SetRawSocketOption(SolSocket, SoReceiveTimeout, timeout);
        }
        catch (SocketException)
        {
        }

        try
        {
            _socket.SetRawSocketOption(LinuxUdp.SolUdp, LinuxUdp.UdpGro, BitConverter.GetBytes(1));
            return true;
        }
        catch (SocketException)
        {
            // Kernels before 5.0 have no UDP GRO: datagrams then arrive one per call.
            return false;
        }
    }

    private static bool IsTransientErrno(int error) =>
        error is 111 /* ECONNREFUSED */ or 104 /* ECONNRESET */ or 113 /* EHOSTUNREACH */ or 101 /* ENETUNREACH */ or 90 /* EMSGSIZE */;

    private void ReceiveLoopPortable(IDatagramReceiver receiver)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(MaxDatagramSize, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        while (!_disposed)
        {
            int received;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException exception) when (IsTransient(exception.SocketErrorCode) && !_disposed)
            {
                // An ICMP error for an earlier send (port unreachable etc.); QUIC's timers deal with the loss.
                continue;
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                if (!_disposed)
                {
                    receiver.OnSocketFailed(exception);
                }

                return;
            }

            QuicMetrics.DatagramReceived(received);
            Deliver(receiver, _addresses.GetEndPoint(from), buffer.AsSpan(0, received));
            FinishBatch(receiver);
        }
    }

    private static bool IsTransient(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.HostUnreachable
            or SocketError.NetworkUnreachable or SocketError.MessageSize or SocketError.Interrupted;
}
