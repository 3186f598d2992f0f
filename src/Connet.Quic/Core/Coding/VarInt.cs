using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Connet.Quic.Core.Coding;

/// <summary>QUIC variable-length integers (RFC 9000 §16): 62-bit values in 1, 2, 4 or 8 bytes.</summary>
internal static class VarInt
{
    public const ulong MaxValue = (1UL << 62) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int EncodedLength(ulong value) => value switch
    {
        <= 63 => 1,
        <= 16383 => 2,
        <= 1073741823 => 4,
        <= MaxValue => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "A QUIC varint holds at most 2^62-1."),
    };

    /// <summary>Length in bytes of the varint whose first byte is <paramref name="firstByte"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LengthFromFirstByte(byte firstByte) => 1 << (firstByte >> 6);

    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int bytesRead)
    {
        if (source.IsEmpty)
        {
            value = 0;
            bytesRead = 0;
            return false;
        }

        int length = LengthFromFirstByte(source[0]);
        if (source.Length < length)
        {
            value = 0;
            bytesRead = 0;
            return false;
        }

        value = length switch
        {
            1 => source[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(source) & 0x3FFFu,
            4 => BinaryPrimitives.ReadUInt32BigEndian(source) & 0x3FFF_FFFFu,
            _ => BinaryPrimitives.ReadUInt64BigEndian(source) & MaxValue,
        };
        bytesRead = length;
        return true;
    }

    /// <summary>Writes <paramref name="value"/> in its shortest form.</summary>
    public static int Write(Span<byte> destination, ulong value) => Write(destination, value, EncodedLength(value));

    /// <summary>Writes <paramref name="value"/> using exactly <paramref name="length"/> bytes (1, 2, 4 or 8).</summary>
    public static int Write(Span<byte> destination, ulong value, int length)
    {
        if (value > MaxValue || EncodedLength(value) > length)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Does not fit a {length}-byte varint.");
        }

        switch (length)
        {
            case 1:
                destination[0] = (byte)value;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(value | 0x4000));
                break;
            case 4:
                BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)value | 0x8000_0000u);
                break;
            case 8:
                BinaryPrimitives.WriteUInt64BigEndian(destination, value | 0xC000_0000_0000_0000UL);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(length), length, "A varint is 1, 2, 4 or 8 bytes long.");
        }

        return length;
    }
}
