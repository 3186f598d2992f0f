using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Connet.Quic.Core.Crypto;

/// <summary>The per-packet AEAD nonce of RFC 9001 §5.3: the IV XOR the packet number, left-padded to the IV length.</summary>
internal static class PacketNonce
{
    public const int Length = 12;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compute(ReadOnlySpan<byte> iv, ulong packetNumber, Span<byte> nonce)
    {
        iv.CopyTo(nonce);
        Span<byte> tail = nonce[4..];
        BinaryPrimitives.WriteUInt64BigEndian(tail, BinaryPrimitives.ReadUInt64BigEndian(tail) ^ packetNumber);
    }
}
