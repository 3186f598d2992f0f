using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// Reads of TLS wire structures that turn every short or out-of-range read into a decode_error alert, so message
/// parsers never see a partial value.
/// </summary>
internal static class TlsReaderExtensions
{
    public static byte ReadUInt8(this ref SpanReader reader, string what) =>
        reader.TryReadByte(out byte value) ? value : throw TlsAlert.Decode(what);

    public static ushort ReadUInt16(this ref SpanReader reader, string what) =>
        reader.TryReadUInt16(out ushort value) ? value : throw TlsAlert.Decode(what);

    public static int ReadUInt24(this ref SpanReader reader, string what) =>
        reader.TryReadUInt24(out int value) ? value : throw TlsAlert.Decode(what);

    public static ReadOnlySpan<byte> ReadBytes(this ref SpanReader reader, int count, string what) =>
        reader.TryReadBytes(count, out ReadOnlySpan<byte> bytes) ? bytes : throw TlsAlert.Decode(what);

    /// <summary>Reads an opaque vector with a 1-, 2- or 3-byte length prefix whose length must lie in [min, max].</summary>
    public static ReadOnlySpan<byte> ReadVector(this ref SpanReader reader, int prefixBytes, int min, int max, string what)
    {
        if (!reader.TryReadLengthPrefixed(prefixBytes, out ReadOnlySpan<byte> bytes) || bytes.Length < min || bytes.Length > max)
        {
            throw TlsAlert.Decode(what);
        }

        return bytes;
    }

    /// <summary>Like <see cref="ReadVector"/>, but returns the position of the vector body within the reader's buffer.</summary>
    public static Range ReadVectorRange(this ref SpanReader reader, int prefixBytes, int min, int max, string what)
    {
        int before = reader.Position;
        ReadOnlySpan<byte> bytes = reader.ReadVector(prefixBytes, min, max, what);
        int start = before + prefixBytes;
        return new Range(start, start + bytes.Length);
    }

    public static void ExpectEnd(this ref SpanReader reader, string what)
    {
        if (!reader.IsEmpty)
        {
            throw TlsAlert.Decode($"trailing bytes after {what}");
        }
    }

    /// <summary>Reads a vector of big-endian 16-bit values (cipher suites, groups, signature schemes).</summary>
    public static List<ushort> ReadUInt16List(this ref SpanReader reader, int prefixBytes, int minBytes, string what)
    {
        ReadOnlySpan<byte> bytes = reader.ReadVector(prefixBytes, minBytes, prefixBytes == 1 ? 254 : 65534, what);
        if ((bytes.Length & 1) != 0)
        {
            throw TlsAlert.Decode(what);
        }

        var values = new List<ushort>(bytes.Length / 2);
        for (int i = 0; i < bytes.Length; i += 2)
        {
            values.Add((ushort)((bytes[i] << 8) | bytes[i + 1]));
        }

        return values;
    }
}
