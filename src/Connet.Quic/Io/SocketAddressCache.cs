using System.Net;
using System.Net.Sockets;

namespace Connet.Quic.Io;

/// <summary>
/// Maps between the socket's <see cref="SocketAddress"/> form and <see cref="IPEndPoint"/> so that steady traffic from a
/// known peer allocates nothing. IPv4-mapped IPv6 addresses of a dual-mode socket surface as plain IPv4 endpoints.
/// Bounded: a flood of new addresses clears it rather than growing it.
/// </summary>
internal sealed class SocketAddressCache(AddressFamily socketFamily)
{
    private const int MaxEntries = 4096;

    private readonly Dictionary<SocketAddress, IPEndPoint> _endPoints = [];
    private readonly Dictionary<IPEndPoint, SocketAddress> _socketAddresses = [];
    private readonly Lock _sendLock = new();

    /// <summary>Receive side (one thread): the endpoint for the address just filled in by ReceiveFrom.</summary>
    public IPEndPoint GetEndPoint(SocketAddress received)
    {
        if (_endPoints.TryGetValue(received, out IPEndPoint? endPoint))
        {
            return endPoint;
        }

        if (_endPoints.Count >= MaxEntries)
        {
            _endPoints.Clear();
        }

        endPoint = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(received);
        if (endPoint.Address.IsIPv4MappedToIPv6)
        {
            endPoint = new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port);
        }

        // The socket keeps writing into `received`, so the key must be a copy.
        var key = new SocketAddress(received.Family, received.Size);
        received.Buffer.Span.CopyTo(key.Buffer.Span);
        _endPoints[key] = endPoint;
        return endPoint;
    }

    /// <summary>Send side (any thread): the address to pass to SendTo for <paramref name="endPoint"/>.</summary>
    public SocketAddress GetSocketAddress(IPEndPoint endPoint)
    {
        lock (_sendLock)
        {
            if (_socketAddresses.TryGetValue(endPoint, out SocketAddress? address))
            {
                return address;
            }

            if (_socketAddresses.Count >= MaxEntries)
            {
                _socketAddresses.Clear();
            }

            IPEndPoint target = socketFamily == AddressFamily.InterNetworkV6 && endPoint.AddressFamily == AddressFamily.InterNetwork
                ? new IPEndPoint(endPoint.Address.MapToIPv6(), endPoint.Port)
                : endPoint;
            address = target.Serialize();
            _socketAddresses[endPoint] = address;
            return address;
        }
    }
}
