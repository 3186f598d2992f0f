using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// A parsed extensions block: extension type to body. Bodies are slices of the message they came from.
/// A repeated extension type is illegal_parameter (RFC 8446 §4.2).
/// </summary>
internal sealed class TlsExtensions
{
    private readonly Dictionary<ushort, ReadOnlyMemory<byte>> _bodies = [];

    public IEnumerable<ushort> Types => _bodies.Keys;

    /// <summary>Reads the 2-byte-length-prefixed extensions block at the reader's position within <paramref name="message"/>.</summary>
    public static TlsExtensions Read(ref SpanReader reader, ReadOnlyMemory<byte> message, string where)
    {
        Range block = reader.ReadVectorRange(2, 0, ushort.MaxValue, $"{where} extensions");
        ReadOnlyMemory<byte> blockMemory = message[block];
        var extensions = new TlsExtensions();
        var inner = new SpanReader(blockMemory.Span);
        while (!inner.IsEmpty)
        {
            ushort type = inner.ReadUInt16($"{where} extension type");
            Range body = inner.ReadVectorRange(2, 0, ushort.MaxValue, $"{where} extension body");
            if (!extensions._bodies.TryAdd(type, blockMemory[body]))
            {
                throw TlsAlert.Error(TlsAlert.IllegalParameter, $"Duplicate TLS extension {type} in {where}.");
            }
        }

        return extensions;
    }

    public bool Contains(TlsExtensionType type) => _bodies.ContainsKey((ushort)type);

    public bool TryGet(TlsExtensionType type, out ReadOnlyMemory<byte> body) => _bodies.TryGetValue((ushort)type, out body);

    public ReadOnlyMemory<byte> GetRequired(TlsExtensionType type, string where) =>
        _bodies.TryGetValue((ushort)type, out ReadOnlyMemory<byte> body)
            ? body
            : throw TlsAlert.Error(TlsAlert.MissingExtension, $"The {where} lacks the mandatory {type} extension.");

    /// <summary>Rejects extensions that RFC 8446 §4.2 does not allow in this message.</summary>
    public void RejectAny(ReadOnlySpan<TlsExtensionType> forbidden, string where)
    {
        foreach (TlsExtensionType type in forbidden)
        {
            if (Contains(type))
            {
                throw TlsAlert.Error(TlsAlert.IllegalParameter, $"The {type} extension is not allowed in {where}.");
            }
        }
    }
}
