using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1), used by both the TLS key schedule and QUIC's key derivation.</summary>
internal static class HkdfLabel
{
    private const int MaxLabelLength = 255 - 6;

    public static void Expand(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> context, Span<byte> output)
    {
        if (label.Length > MaxLabelLength || context.Length > 255 || output.Length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(label), "HKDF label, context or output too long.");
        }

        // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; } HkdfLabel;
        Span<byte> info = stackalloc byte[2 + 1 + 6 + label.Length + 1 + context.Length];
        info[0] = (byte)(output.Length >> 8);
        info[1] = (byte)output.Length;
        info[2] = (byte)(6 + label.Length);
        "tls13 "u8.CopyTo(info[3..]);
        for (int i = 0; i < label.Length; i++)
        {
            info[9 + i] = (byte)label[i];
        }

        info[9 + label.Length] = (byte)context.Length;
        context.CopyTo(info[(10 + label.Length)..]);
        HKDF.Expand(hash, secret, output, info);
    }

    public static byte[] Expand(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> context, int length)
    {
        byte[] output = new byte[length];
        Expand(hash, secret, label, context, output);
        return output;
    }
}
