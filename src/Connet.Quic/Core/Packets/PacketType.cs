namespace Connet.Quic.Core.Packets;

/// <summary>QUIC v1 packet types (RFC 9000 §17).</summary>
internal enum PacketType
{
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
    VersionNegotiation,
    OneRtt,
}
