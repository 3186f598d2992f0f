namespace Connet.Quic.Core.Tls;

/// <summary>
/// Reassembles handshake messages from the CRYPTO byte stream of one encryption level: bytes may arrive one at a
/// time or several messages at once. Declared lengths are bounded before any waiting for the body.
/// </summary>
internal sealed class TlsMessageBuffer
{
    public const int MaxMessageLength = 64 * 1024;
    public const int MaxCertificateMessageLength = 256 * 1024;
    private const int HeaderLength = 4;

    private byte[] _buffer = [];
    private int _start;
    private int _end;

    public bool IsEmpty => _start == _end;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        int buffered = _end - _start;
        if (_buffer.Length - _end < data.Length)
        {
            if (_buffer.Length - buffered >= data.Length && buffered <= _buffer.Length / 2)
            {
                _buffer.AsSpan(_start, buffered).CopyTo(_buffer);
            }
            else
            {
                byte[] grown = new byte[Math.Max(buffered + data.Length, Math.Min(_buffer.Length * 2, MaxCertificateMessageLength + HeaderLength))];
                _buffer.AsSpan(_start, buffered).CopyTo(grown);
                _buffer = grown;
            }

            _start = 0;
            _end = buffered;
        }

        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>Takes the next complete message (header included), or returns false when more bytes are needed.</summary>
    public bool TryTakeMessage(out TlsHandshakeType type, out byte[] message)
    {
        type = default;
        message = [];
        int buffered = _end - _start;
        if (buffered < HeaderLength)
        {
            return false;
        }

        ReadOnlySpan<byte> header = _buffer.AsSpan(_start, HeaderLength);
        type = (TlsHandshakeType)header[0];
        int length = (header[1] << 16) | (header[2] << 8) | header[3];
        int limit = type == TlsHandshakeType.Certificate ? MaxCertificateMessageLength : MaxMessageLength;
        if (length > limit)
        {
            throw TlsAlert.Decode($"{type} message of {length} bytes exceeds the {limit}-byte limit");
        }

        if (buffered < HeaderLength + length)
        {
            return false;
        }

        message = _buffer.AsSpan(_start, HeaderLength + length).ToArray();
        _start += HeaderLength + length;
        if (_start == _end)
        {
            _start = _end = 0;
        }

        return true;
    }
}
