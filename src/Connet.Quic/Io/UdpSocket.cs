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

    private readonly Socket _socket;
    private readonly SocketAddressCache _addresses;
    private readonly ILogger _logger;
    private Thread? _receiveThread;
    private volatile bool _disposed;

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
            try
            {
                receiver.OnDatagram(_addresses.GetEndPoint(from), buffer.AsSpan(0, received));
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // A bug handling one datagram must not kill the socket for every connection on it.
                QuicLog.DatagramHandlingFailed(_logger, LocalEndPoint, exception);
            }
        }
    }

    private static bool IsTransient(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.HostUnreachable
            or SocketError.NetworkUnreachable or SocketError.MessageSize or SocketError.Interrupted;
}
