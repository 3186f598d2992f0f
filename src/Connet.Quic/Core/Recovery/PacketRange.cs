namespace Connet.Quic.Core.Recovery;

/// <summary>An inclusive range of packet numbers, as ACK frames carry them.</summary>
internal readonly record struct PacketRange(ulong Smallest, ulong Largest)
{
    public bool Contains(ulong packetNumber) => packetNumber >= Smallest && packetNumber <= Largest;
}
