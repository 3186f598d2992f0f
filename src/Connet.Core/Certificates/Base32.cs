namespace Connet.Core.Certificates;

/// <summary>RFC 4648 base32 without padding, lowercase, over either alphabet.</summary>
internal static class Base32
{
    /// <summary>RFC 4648 §6 alphabet, lowercased.</summary>
    public const string StandardAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>RFC 4648 §7 "extended hex" alphabet, lowercased: 0-9a-v.</summary>
    public const string HexAlphabet = "0123456789abcdefghijklmnopqrstuv";

    public static string Encode(ReadOnlySpan<byte> data, string alphabet)
    {
        var length = ((data.Length * 8) + 4) / 5;
        return string.Create(length, (Data: data.ToArray(), Alphabet: alphabet), static (output, state) =>
        {
            var (bytes, letters) = state;
            var accumulator = 0;
            var bits = 0;
            var written = 0;
            foreach (var value in bytes)
            {
                accumulator = (accumulator << 8) | value;
                bits += 8;
                while (bits >= 5)
                {
                    bits -= 5;
                    output[written++] = letters[(accumulator >> bits) & 31];
                }
            }

            if (bits > 0)
            {
                output[written] = letters[(accumulator << (5 - bits)) & 31];
            }
        });
    }
}
