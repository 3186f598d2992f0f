using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Connet.Core.Crypto;

/// <summary>
/// The hash H of connet's dhxcp KDF (pkg/cryptoc/derive.go): BLAKE2s-256 keyed with "connet-hash",
/// and RFC 5869 HKDF whose HMAC is built over that keyed hash.
/// </summary>
/// <remarks>
/// Go's <c>hkdf.Key(newhash, ...)</c> wraps <c>newhash</c> (a keyed BLAKE2s) in <c>crypto/hmac</c>, so the
/// HMAC's inner and outer hashes are themselves keyed: HMAC(K, m) = H((K ^ opad) ‖ H((K ^ ipad) ‖ m)) with the
/// 64-byte BLAKE2s block size. BouncyCastle's <see cref="HMac"/> does the same: it uses the digest's
/// byte length (64 for BLAKE2s) as block size and <see cref="Blake2sDigest.Reset"/> re-absorbs the key.
/// Older connet (hkdf1/hkdf2, the Noise construction) produces identical bytes, because with an empty
/// info the Noise HKDF outputs are exactly RFC 5869's T(1) and T(2).
/// </remarks>
internal static class ConnetHash
{
    public const int Size = 32;

    private static readonly byte[] HashKey = "connet-hash"u8.ToArray();

    public static Blake2sDigest CreateDigest() => new(HashKey, Size, salt: null, personalization: null);

    /// <summary>H(first ‖ second).</summary>
    public static byte[] Mix(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var digest = CreateDigest();
        digest.BlockUpdate(first);
        digest.BlockUpdate(second);
        var output = new byte[Size];
        digest.DoFinal(output);
        return output;
    }

    /// <summary>RFC 5869 HKDF with HMAC-H and an empty info, as Go's <c>hkdf.Key(newhash, ikm, salt, "", length)</c>.</summary>
    public static byte[] Hkdf(ReadOnlySpan<byte> inputKeyMaterial, ReadOnlySpan<byte> salt, int length)
    {
        if (length is <= 0 or > 255 * Size)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "HKDF output must be 1..8160 bytes.");
        }

        var hmac = new HMac(CreateDigest());

        // Extract: PRK = HMAC(salt, IKM).
        hmac.Init(new KeyParameter(salt));
        hmac.BlockUpdate(inputKeyMaterial);
        Span<byte> pseudoRandomKey = stackalloc byte[Size];
        hmac.DoFinal(pseudoRandomKey);

        // Expand: T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i), info empty.
        var output = new byte[length];
        Span<byte> block = stackalloc byte[Size];
        hmac.Init(new KeyParameter(pseudoRandomKey));
        var written = 0;
        for (byte counter = 1; written < length; counter++)
        {
            if (counter > 1)
            {
                hmac.BlockUpdate(block);
            }

            hmac.Update(counter);
            hmac.DoFinal(block);
            var take = Math.Min(Size, length - written);
            block[..take].CopyTo(output.AsSpan(written));
            written += take;
        }

        pseudoRandomKey.Clear();
        block.Clear();
        return output;
    }
}
