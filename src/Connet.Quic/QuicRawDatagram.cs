using System.Net;

namespace Connet.Quic;

/// <summary>A non-QUIC datagram (first byte's 0x40 bit clear) received on a <see cref="QuicEndpoint"/>'s socket.</summary>
public readonly record struct QuicRawDatagram(ReadOnlyMemory<byte> Data, IPEndPoint RemoteEndPoint);
