using Org.BouncyCastle.Crypto.Digests;

namespace Connet.Core.Certificates;

/// <summary>
/// connet's "cert key" (pkg/certc/key.go): lowercase base32hex without padding (alphabet 0-9a-v) of the unkeyed
/// BLAKE2s-256 of a certificate's DER. Always 52 characters.
/// </summary>
public static class CertificateKey
{
    public const int Length = 52;

    public static string Compute(ReadOnlySpan<byte> der)
    {
        var digest = new Blake2sDigest(256);
        digest.BlockUpdate(der);
        Span<byte> hash = stackalloc byte[32];
        digest.DoFinal(hash);
        return Base32.Encode(hash, Base32.HexAlphabet);
    }
}
