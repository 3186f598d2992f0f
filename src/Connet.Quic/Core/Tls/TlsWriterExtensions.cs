using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Tls;

/// <summary>Where a length-prefixed TLS vector's body starts, so its prefix can be filled in once the body is written.</summary>
internal readonly record struct TlsVectorMark(int Start, int PrefixBytes);

/// <summary>Encoding helpers for TLS vectors on top of <see cref="SpanWriter"/>.</summary>
internal static class TlsWriterExtensions
{
    public static TlsVectorMark BeginVector(this ref SpanWriter writer, int prefixBytes)
    {
        writer.Reserve(prefixBytes);
        return new TlsVectorMark(writer.Position, prefixBytes);
    }

    public static void EndVector(this ref SpanWriter writer, TlsVectorMark mark)
    {
        int length = writer.Position - mark.Start;
        if (length >= 1 << (8 * mark.PrefixBytes))
        {
            throw new InvalidOperationException("TLS vector too long for its length prefix.");
        }

        Span<byte> prefix = writer.Written.Slice(mark.Start - mark.PrefixBytes, mark.PrefixBytes);
        for (int i = mark.PrefixBytes - 1; i >= 0; i--)
        {
            prefix[i] = (byte)length;
            length >>= 8;
        }
    }

    public static void WriteVector(this ref SpanWriter writer, int prefixBytes, ReadOnlySpan<byte> body)
    {
        TlsVectorMark mark = writer.BeginVector(prefixBytes);
        writer.WriteBytes(body);
        writer.EndVector(mark);
    }

    public static TlsVectorMark BeginMessage(this ref SpanWriter writer, TlsHandshakeType type)
    {
        writer.WriteByte((byte)type);
        return writer.BeginVector(3);
    }

    public static TlsVectorMark BeginExtension(this ref SpanWriter writer, TlsExtensionType type)
    {
        writer.WriteUInt16((ushort)type);
        return writer.BeginVector(2);
    }
}
