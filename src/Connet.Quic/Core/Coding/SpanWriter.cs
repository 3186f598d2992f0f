using System.Buffers.Binary;

namespace Connet.Quic.Core.Coding;

/// <summary>
/// A forward-only writer into a caller-owned buffer. Writing past the end throws: encoders size their output
/// first, so running out of room is a bug, not a network condition.
/// </summary>
internal ref struct SpanWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public SpanWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly Span<byte> Written => _buffer[.._position];

    public readonly Span<byte> RemainingSpan => _buffer[_position..];

    public void WriteByte(byte value)
    {
        _buffer[_position] = value;
        _position++;
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void WriteUInt24(int value)
    {
        if ((uint)value > 0xFF_FFFF)
        {
            throw new ArgumentOutOfRangeException(nameof(value));
        }

        Span<byte> target = _buffer.Slice(_position, 3);
        target[0] = (byte)(value >> 16);
        target[1] = (byte)(value >> 8);
        target[2] = (byte)value;
        _position += 3;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer[_position..], value);
        _position += 8;
    }

    public void WriteVarInt(ulong value) => _position += VarInt.Write(_buffer[_position..], value);

    public void WriteVarInt(ulong value, int length) => _position += VarInt.Write(_buffer[_position..], value, length);

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer[_position..]);
        _position += bytes.Length;
    }

    /// <summary>Reserves <paramref name="count"/> bytes to be filled in later (a length field, a tag).</summary>
    public Span<byte> Reserve(int count)
    {
        Span<byte> reserved = _buffer.Slice(_position, count);
        _position += count;
        return reserved;
    }

    public void Advance(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _position += count;
    }
}
