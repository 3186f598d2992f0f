using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Connet.Client.Tunnels.Sources;

/// <summary>
/// The HAProxy PROXY protocol header (proxy-protocol.txt, versions 1 and 2) a source writes into a tunnel before the
/// client's bytes when the destination asks for it: the original client's address and the address it connected to.
/// Only the PROXY command over TCP is written (TCP4/TCP6, no TLVs), as Go connet's pires/go-proxyproto does.
/// </summary>
internal static class ProxyProtocolHeader
{
    /// <summary>The 12-byte v2 signature: <c>\r\n\r\n\0\r\nQUIT\n</c>.</summary>
    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>Version 2, command PROXY.</summary>
    private const byte V2ProxyCommand = 0x21;

    private const byte V2TcpOverIPv4 = 0x11;
    private const byte V2TcpOverIPv6 = 0x21;

    /// <summary>The header for a TCP connection from <paramref name="source"/> (the client) to <paramref name="destination"/> (our listener).</summary>
    public static byte[] Create(ConnetProxyProtocol version, IPEndPoint source, IPEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        (IPAddress sourceAddress, IPAddress destinationAddress) = SameFamily(source.Address, destination.Address);
        return version switch
        {
            ConnetProxyProtocol.V1 => CreateV1(sourceAddress, source.Port, destinationAddress, destination.Port),
            ConnetProxyProtocol.V2 => CreateV2(sourceAddress, source.Port, destinationAddress, destination.Port),
            _ => throw new ArgumentOutOfRangeException(nameof(version), version, "Only PROXY protocol V1 and V2 have a header."),
        };
    }

    /// <summary>
    /// Both addresses in one family, without scope ids: IPv4 (unmapped from a dual-mode socket's ::ffff:a.b.c.d) when
    /// both are IPv4, else both IPv6, since a header carries a single family.
    /// </summary>
    private static (IPAddress Source, IPAddress Destination) SameFamily(IPAddress source, IPAddress destination)
    {
        IPAddress unmappedSource = source.IsIPv4MappedToIPv6 ? source.MapToIPv4() : source;
        IPAddress unmappedDestination = destination.IsIPv4MappedToIPv6 ? destination.MapToIPv4() : destination;
        if (unmappedSource.AddressFamily == AddressFamily.InterNetwork && unmappedDestination.AddressFamily == AddressFamily.InterNetwork)
        {
            return (unmappedSource, unmappedDestination);
        }

        return (new IPAddress(source.MapToIPv6().GetAddressBytes()), new IPAddress(destination.MapToIPv6().GetAddressBytes()));
    }

    private static byte[] CreateV1(IPAddress source, int sourcePort, IPAddress destination, int destinationPort)
    {
        string family = source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6";
        string line = string.Create(CultureInfo.InvariantCulture, $"PROXY {family} {source} {destination} {sourcePort} {destinationPort}\r\n");
        return Encoding.ASCII.GetBytes(line);
    }

    private static byte[] CreateV2(IPAddress source, int sourcePort, IPAddress destination, int destinationPort)
    {
        bool ipv4 = source.AddressFamily == AddressFamily.InterNetwork;
        int addressLength = ipv4 ? 4 : 16;
        int payloadLength = (2 * addressLength) + 4;
        byte[] header = new byte[V2Signature.Length + 4 + payloadLength];
        Span<byte> span = header;
        V2Signature.CopyTo(span);
        span[12] = V2ProxyCommand;
        span[13] = ipv4 ? V2TcpOverIPv4 : V2TcpOverIPv6;
        BinaryPrimitives.WriteUInt16BigEndian(span[14..], (ushort)payloadLength);
        Span<byte> addresses = span[16..];
        source.TryWriteBytes(addresses, out _);
        destination.TryWriteBytes(addresses[addressLength..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(addresses[(2 * addressLength)..], (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(addresses[((2 * addressLength) + 2)..], (ushort)destinationPort);
        return header;
    }
}
