using System.Buffers.Binary;

namespace Connet.Quic.Core.Endpoint;

/// <summary>Writes Version Negotiation packets (RFC 9000 §17.2.1) listing the versions we speak: QUIC v1 only.</summary>
internal static class VersionNegotiationPacket
{
    public static int MaxLength(int destinationIdLength, int sourceIdLength) => 1 + 4 + 1 + destinationIdLength + 1 + sourceIdLength + 4;

    /// <summary>
    /// Writes a VN reply: its DCID is the client's SCID and its SCID the client's DCID, so the client can match it.
    /// </summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> clientSourceId, ReadOnlySpan<byte> clientDestinationId, byte randomBits)
    {
        int length = MaxLength(clientSourceId.Length, clientDestinationId.Length);
        if (destination.Length < length || clientSourceId.Length > byte.MaxValue || clientDestinationId.Length > byte.MaxValue)
        {
            throw new ArgumentException("Destination too small for a Version Negotiation packet.", nameof(destination));
        }

        // The fixed bit is set so the packet demultiplexes like QUIC next to other protocols (RFC 9000 §17.2.1).
        destination[0] = (byte)(InvariantHeader.LongHeaderBit | InvariantHeader.FixedBit | (randomBits & 0x3F));
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], 0);
        int position = 5;
        destination[position++] = (byte)clientSourceId.Length;
        clientSourceId.CopyTo(destination[position..]);
        position += clientSourceId.Length;
        destination[position++] = (byte)clientDestinationId.Length;
        clientDestinationId.CopyTo(destination[position..]);
        position += clientDestinationId.Length;
        BinaryPrimitives.WriteUInt32BigEndian(destination[position..], InvariantHeader.Version1);
        return position + 4;
    }
}
