using System.Net;
using Connet.Core.Protocol.Wire;
using Google.Protobuf;

namespace Connet.Client;

/// <summary>Converts model.proto <c>AddrPort</c> (v4 or v6 bytes, port) to and from <see cref="IPEndPoint"/>.</summary>
internal static class WireAddressing
{
    public static AddrPort ToAddrPort(IPEndPoint endPoint)
    {
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var addr = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? new Addr { V4 = ByteString.CopyFrom(address.GetAddressBytes()) }
            : new Addr { V6 = ByteString.CopyFrom(address.GetAddressBytes()) };
        return new AddrPort { Addr = addr, Port = (uint)endPoint.Port };
    }

    /// <summary>Null when the message carries no usable address.</summary>
    public static IPEndPoint? ToEndPoint(AddrPort? addrPort)
    {
        if (addrPort?.Addr is not { } addr || addrPort.Port is 0 or > IPEndPoint.MaxPort)
        {
            return null;
        }

        ByteString bytes = addr.V4.Length == 4 ? addr.V4 : addr.V6;
        return bytes.Length is 4 or 16 ? new IPEndPoint(new IPAddress(bytes.Span), (int)addrPort.Port) : null;
    }
}
