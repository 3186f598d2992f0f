using System.Buffers.Binary;

namespace Connet.Quic.Core.Coding;

/// <summary>
/// A forward-only reader over untrusted bytes. Every Try method leaves the reader unchanged when it fails,
/// so a decoder can turn a short read into a protocol error without partial state.
/// </summary>
internal ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public SpanReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool IsEmpty => _position >= _buffer.Length;

    public readonly ReadOnlySpan<byte> RemainingSpan => _buffer[_position..];

    public bool TryReadByte(out byte value)
    {
        if (_position >= _buffer.Length)
        {
            value = 0;
            return false;
        }

        value = _buffer[_position++];
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        if (Remaining < 2)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_buffer[_position..]);
        _position += 2;
        return true;
    }

    public bool TryReadUInt24(out int value)
    {
        if (Remaining < 3)
        {
            value = 0;
            return false;
        }

        value = (_buffer[_position] << 16) | (_buffer[_position + 1] << 8) | _buffer[_position + 2];
        _position += 3;
        return true;
    }

    public bool TryReadUInt32(out uint value)
    {
        if (Remaining < 4)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(_buffer[_position..]);
        _position += 4;
        return true;
    }

    public bool TryReadUInt64(out ulong value)
    {
        if (Remaining < 8)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt64BigEndian(_buffer[_position..]);
        _position += 8;
        return true;
    }

    public bool TryReadVarInt(out ulong value)
    {
        if (!VarInt.TryRead(_buffer[_position..], out value, out int length))
        {
            return false;
        }

        _position += length;
        return true;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
    {
        if (count < 0 || Remaining < count)
        {
            bytes = default;
            return false;
        }

        bytes = _buffer.Slice(_position, count);
        _position += count;
        return true;
    }

    /// <summary>Reads a varint length followed by that many bytes; fails if the length exceeds what is left.</summary>
    public bool TryReadVarIntLengthPrefixed(out ReadOnlySpan<byte> bytes)
    {
        int start = _position;
        if (!TryReadVarInt(out ulong length) || length > (ulong)Remaining)
        {
            _position = start;
            bytes = default;
            return false;
        }

        return TryReadBytes((int)length, out bytes);
    }

    /// <summary>Reads an 8-, 16- or 24-bit length prefix (TLS style) followed by that many bytes.</summary>
    public bool TryReadLengthPrefixed(int prefixBytes, out ReadOnlySpan<byte> bytes)
    {
        int start = _position;
        int length;
        bool ok;
        switch (prefixBytes)
        {
            case 1:
                ok = TryReadByte(out byte b);
                length = b;
                break;
            case 2:
                ok = TryReadUInt16(out ushort s);
                length = s;
                break;
            case 3:
                ok = TryReadUInt24(out length);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(prefixBytes));
        }

        if (!ok || !TryReadBytes(length, out bytes))
        {
            _position = start;
            bytes = default;
            return false;
        }

        return true;
    }

    public bool TrySkip(int count)
    {
        if (count < 0 || Remaining < count)
        {
            return false;
        }

        _position += count;
        return true;
    }
}
