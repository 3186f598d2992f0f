using System.Net;
using System.Net.Sockets;
using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Parameters;

/// <summary>
/// The server's preferred_address (RFC 9000 §18.2, §9.6). A family the server does not offer is null, sent as the
/// all-zero address and port. The connection ID is the server's sequence-number-1 ID and is never empty.
/// </summary>
internal sealed record PreferredAddress(IPEndPoint? IPv4, IPEndPoint? IPv6, ConnectionId ConnectionId, StatelessResetToken ResetToken)
{
    private const int IPv4Length = 4;
    private const int IPv6Length = 16;
    private const int PortLength = 2;

    public int EncodedLength =>
        IPv4Length + PortLength + IPv6Length + PortLength + 1 + ConnectionId.Length + StatelessResetToken.Length;

    /// <summary>Parses the parameter value; anything malformed is TRANSPORT_PARAMETER_ERROR.</summary>
    public static PreferredAddress Decode(ReadOnlySpan<byte> value)
    {
        var reader = new SpanReader(value);
        IPEndPoint? ipv4 = ReadEndPoint(ref reader, IPv4Length);
        IPEndPoint? ipv6 = ReadEndPoint(ref reader, IPv6Length);
        if (!reader.TryReadByte(out byte cidLength))
        {
            throw TransportParameterErrors.Invalid("truncated preferred_address");
        }

        if (cidLength is 0 or > ConnectionId.MaxLength)
        {
            throw TransportParameterErrors.Invalid("preferred_address connection ID length not in 1..20");
        }

        if (!reader.TryReadBytes(cidLength, out ReadOnlySpan<byte> cid)
            || !reader.TryReadBytes(StatelessResetToken.Length, out ReadOnlySpan<byte> token))
        {
            throw TransportParameterErrors.Invalid("truncated preferred_address");
        }

        if (!reader.IsEmpty)
        {
            throw TransportParameterErrors.Invalid("trailing bytes in preferred_address");
        }

        return new PreferredAddress(ipv4, ipv6, new ConnectionId(cid), new StatelessResetToken(token));
    }

    public void Encode(ref SpanWriter writer)
    {
        ConnectionId connectionId = ConnectionId;
        if (connectionId.Length == 0)
        {
            throw new InvalidOperationException("A preferred address must carry a non-empty connection ID (RFC 9000 §18.2).");
        }

        WriteEndPoint(ref writer, IPv4, AddressFamily.InterNetwork, IPv4Length);
        WriteEndPoint(ref writer, IPv6, AddressFamily.InterNetworkV6, IPv6Length);
        writer.WriteByte((byte)connectionId.Length);
        connectionId.Span.CopyTo(writer.Reserve(connectionId.Length));
        ResetToken.CopyTo(writer.Reserve(StatelessResetToken.Length));
    }

    private static IPEndPoint? ReadEndPoint(ref SpanReader reader, int addressLength)
    {
        if (!reader.TryReadBytes(addressLength, out ReadOnlySpan<byte> address) || !reader.TryReadUInt16(out ushort port))
        {
            throw TransportParameterErrors.Invalid("truncated preferred_address");
        }

        // All zeros is how the server says it offers no address of this family.
        if (port == 0 && !address.ContainsAnyExcept((byte)0))
        {
            return null;
        }

        return new IPEndPoint(new IPAddress(address), port);
    }

    private static void WriteEndPoint(ref SpanWriter writer, IPEndPoint? endPoint, AddressFamily family, int addressLength)
    {
        Span<byte> address = writer.Reserve(addressLength);
        if (endPoint is null)
        {
            address.Clear();
            writer.WriteUInt16(0);
            return;
        }

        if (endPoint.AddressFamily != family || !endPoint.Address.TryWriteBytes(address, out int written) || written != addressLength)
        {
            throw new InvalidOperationException($"Preferred address {endPoint} is not of family {family}.");
        }

        writer.WriteUInt16((ushort)endPoint.Port);
    }
}
