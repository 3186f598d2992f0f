using System.Net;
using System.Net.Sockets;
using Connet.Core.Protocol.Wire;

namespace Connet.Server.Control;

/// <summary>Conversions between socket addresses and the wire's <see cref="AddrPort"/>.</summary>
internal static class WireAddresses
{
    public static AddrPort ToAddrPort(IPEndPoint endPoint)
    {
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var addr = new Addr();
        var bytes = Google.Protobuf.ByteString.CopyFrom(address.GetAddressBytes());
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            addr.V4 = bytes;
        }
        else
        {
            addr.V6 = bytes;
        }

        return new AddrPort { Addr = addr, Port = (uint)endPoint.Port };
    }

    /// <summary>The socket address of <paramref name="addrPort"/>, or null if it is malformed.</summary>
    public static IPEndPoint? ToEndPoint(AddrPort? addrPort)
    {
        if (addrPort?.Addr is not { } addr || addrPort.Port > IPEndPoint.MaxPort)
        {
            return null;
        }

        var bytes = addr.V4.Length == 4 ? addr.V4 : addr.V6.Length == 16 ? addr.V6 : null;
        return bytes is null ? null : new IPEndPoint(new IPAddress(bytes.Span), (int)addrPort.Port);
    }
}
