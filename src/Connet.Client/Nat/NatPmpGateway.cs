using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Connet.Client.Nat;

/// <summary>Finds the NAT-PMP gateway the way Go connet does (connet-protocol.md §3): only behind a private IPv4 address.</summary>
internal static class NatPmpGateway
{
    /// <summary>Longest /proc/net/route we read; a routing table past this is not a home router's.</summary>
    private const int MaxRouteTableBytes = 1 << 20;

    /// <summary>
    /// <see cref="ConnetNatPmp.System"/>: the gateway of the default IPv4 route (/proc/net/route, Linux), with the
    /// local address used to reach it. Null (and <paramref name="problem"/>) when there is none or it is not private.
    /// </summary>
    public static IPAddress? FromSystem(out string? problem)
    {
        string table;
        try
        {
            using var stream = new FileStream("/proc/net/route", FileMode.Open, FileAccess.Read);
            using var reader = new StreamReader(stream);
            var buffer = new char[MaxRouteTableBytes];
            int read = reader.ReadBlock(buffer, 0, buffer.Length);
            table = new string(buffer, 0, read);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot read the routing table /proc/net/route: {exception.Message}";
            return null;
        }

        IPAddress? gateway = ParseDefaultGateway(table);
        if (gateway is null)
        {
            problem = "no default IPv4 route with a gateway in /proc/net/route";
            return null;
        }

        return RequirePrivate(gateway, LocalAddressTowards(gateway), out problem);
    }

    /// <summary>
    /// <see cref="ConnetNatPmp.Dial"/>: the local address a UDP socket connected to <paramref name="control"/> gets (no
    /// packet is sent), with the gateway assumed at x.y.z.1 of it. Null (and <paramref name="problem"/>) unless private.
    /// </summary>
    public static IPAddress? FromDial(IPAddress control, out string? problem)
    {
        IPAddress? local = LocalAddressTowards(control);
        if (local is null || local.AddressFamily != AddressFamily.InterNetwork)
        {
            problem = $"no local IPv4 address routes to the control server {control}";
            return null;
        }

        byte[] bytes = local.GetAddressBytes();
        bytes[3] = 1;
        return RequirePrivate(new IPAddress(bytes), local, out problem);
    }

    /// <summary>
    /// The gateway of the first default route (destination 0.0.0.0, mask 0.0.0.0, flags UP|GATEWAY) in the text of
    /// /proc/net/route, whose addresses are 8 hex digits in host (little-endian on the machines we run on) order.
    /// </summary>
    public static IPAddress? ParseDefaultGateway(string routeTable)
    {
        const int Up = 0x1;
        const int Gateway = 0x2;
        foreach (string line in routeTable.Split('\n').Skip(1).Take(4096))
        {
            string[] fields = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8
                || !uint.TryParse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint destination)
                || !uint.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint gateway)
                || !int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int flags)
                || !uint.TryParse(fields[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint mask))
            {
                continue;
            }

            if (destination == 0 && mask == 0 && (flags & (Up | Gateway)) == (Up | Gateway) && gateway != 0)
            {
                var bytes = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, gateway);
                return new IPAddress(bytes);
            }
        }

        return null;
    }

    /// <summary>RFC 1918: 10/8, 172.16/12, 192.168/16.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        byte[] bytes = address.GetAddressBytes();
        return bytes[0] == 10 || (bytes[0] == 172 && (bytes[1] & 0xF0) == 16) || (bytes[0] == 192 && bytes[1] == 168);
    }

    private static IPAddress? RequirePrivate(IPAddress gateway, IPAddress? local, out string? problem)
    {
        if (local is null || !IsPrivate(local))
        {
            problem = $"the local address {local?.ToString() ?? "?"} towards the gateway {gateway} is not private (RFC 1918): no NAT to map through";
            return null;
        }

        problem = null;
        return gateway;
    }

    /// <summary>The local address the kernel picks to reach <paramref name="remote"/>: connecting a UDP socket sends nothing.</summary>
    private static IPAddress? LocalAddressTowards(IPAddress remote)
    {
        try
        {
            using var socket = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(new IPEndPoint(remote, NatPmpProtocol.GatewayPort));
            return (socket.LocalEndPoint as IPEndPoint)?.Address;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
