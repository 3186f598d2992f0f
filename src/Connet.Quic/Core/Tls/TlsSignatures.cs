using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Connet.Quic.Core.Tls;

/// <summary>CertificateVerify signing and verification (RFC 8446 §4.4.3).</summary>
internal static class TlsSignatures
{
    private const string Ed25519Oid = "1.3.101.112";

    /// <summary>What we accept from peers, most preferred first; sent in signature_algorithms.</summary>
    public static IReadOnlyList<TlsSignatureScheme> VerifiableSchemes { get; } =
    [
        TlsSignatureScheme.EcdsaSecp256r1Sha256,
        TlsSignatureScheme.RsaPssRsaeSha256,
        TlsSignatureScheme.EcdsaSecp384r1Sha384,
        TlsSignatureScheme.RsaPssRsaeSha384,
        TlsSignatureScheme.EcdsaSecp521r1Sha512,
        TlsSignatureScheme.RsaPssRsaeSha512,
        TlsSignatureScheme.Ed25519,
    ];

    /// <summary>64 spaces, the context string, a zero byte, then the transcript hash.</summary>
    public static byte[] SignedContent(bool server, ReadOnlySpan<byte> transcriptHash)
    {
        string context = server ? "TLS 1.3, server CertificateVerify" : "TLS 1.3, client CertificateVerify";
        byte[] content = new byte[64 + context.Length + 1 + transcriptHash.Length];
        content.AsSpan(0, 64).Fill(0x20);
        Encoding.ASCII.GetBytes(context, content.AsSpan(64));
        content[64 + context.Length] = 0;
        transcriptHash.CopyTo(content.AsSpan(64 + context.Length + 1));
        return content;
    }

    /// <summary>The scheme our certificate's key can sign with that the peer accepts, or null if none.</summary>
    public static TlsSignatureScheme? ChooseScheme(X509Certificate2 certificate, IReadOnlyCollection<ushort> peerSchemes)
    {
        using (ECDsa? ecdsa = certificate.GetECDsaPrivateKey())
        {
            if (ecdsa is not null)
            {
                TlsSignatureScheme? scheme = ecdsa.KeySize switch
                {
                    256 => TlsSignatureScheme.EcdsaSecp256r1Sha256,
                    384 => TlsSignatureScheme.EcdsaSecp384r1Sha384,
                    521 => TlsSignatureScheme.EcdsaSecp521r1Sha512,
                    _ => null,
                };
                return scheme is { } s && peerSchemes.Contains((ushort)s) ? s : null;
            }
        }

        using (RSA? rsa = certificate.GetRSAPrivateKey())
        {
            if (rsa is not null)
            {
                foreach (TlsSignatureScheme scheme in (ReadOnlySpan<TlsSignatureScheme>)
                    [TlsSignatureScheme.RsaPssRsaeSha256, TlsSignatureScheme.RsaPssRsaeSha384, TlsSignatureScheme.RsaPssRsaeSha512])
                {
                    if (peerSchemes.Contains((ushort)scheme))
                    {
                        return scheme;
                    }
                }
            }
        }

        return null;
    }

    public static byte[] Sign(X509Certificate2 certificate, TlsSignatureScheme scheme, byte[] content)
    {
        switch (scheme)
        {
            case TlsSignatureScheme.EcdsaSecp256r1Sha256 or TlsSignatureScheme.EcdsaSecp384r1Sha384 or TlsSignatureScheme.EcdsaSecp521r1Sha512:
                using (ECDsa ecdsa = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("No ECDSA private key."))
                {
                    return ecdsa.SignData(content, HashOf(scheme), DSASignatureFormat.Rfc3279DerSequence);
                }

            case TlsSignatureScheme.RsaPssRsaeSha256 or TlsSignatureScheme.RsaPssRsaeSha384 or TlsSignatureScheme.RsaPssRsaeSha512:
                using (RSA rsa = certificate.GetRSAPrivateKey() ?? throw new InvalidOperationException("No RSA private key."))
                {
                    return rsa.SignData(content, HashOf(scheme), RSASignaturePadding.Pss);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Cannot sign with this scheme.");
        }
    }

    /// <summary>Checks a peer's signature; false for a bad signature or a key that does not fit the scheme.</summary>
    public static bool Verify(X509Certificate2 certificate, TlsSignatureScheme scheme, byte[] content, ReadOnlySpan<byte> signature)
    {
        try
        {
            switch (scheme)
            {
                case TlsSignatureScheme.EcdsaSecp256r1Sha256 or TlsSignatureScheme.EcdsaSecp384r1Sha384 or TlsSignatureScheme.EcdsaSecp521r1Sha512:
                    using (ECDsa? ecdsa = certificate.GetECDsaPublicKey())
                    {
                        int expectedKeySize = scheme switch
                        {
                            TlsSignatureScheme.EcdsaSecp256r1Sha256 => 256,
                            TlsSignatureScheme.EcdsaSecp384r1Sha384 => 384,
                            _ => 521,
                        };
                        return ecdsa is not null && ecdsa.KeySize == expectedKeySize &&
                            ecdsa.VerifyData(content, signature, HashOf(scheme), DSASignatureFormat.Rfc3279DerSequence);
                    }

                case TlsSignatureScheme.RsaPssRsaeSha256 or TlsSignatureScheme.RsaPssRsaeSha384 or TlsSignatureScheme.RsaPssRsaeSha512:
                    using (RSA? rsa = certificate.GetRSAPublicKey())
                    {
                        return rsa is not null && rsa.VerifyData(content, signature, HashOf(scheme), RSASignaturePadding.Pss);
                    }

                case TlsSignatureScheme.Ed25519:
                    return VerifyEd25519(certificate, content, signature);

                default:
                    return false;
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static bool VerifyEd25519(X509Certificate2 certificate, byte[] content, ReadOnlySpan<byte> signature)
    {
        byte[] publicKey = certificate.PublicKey.EncodedKeyValue.RawData;
        if (certificate.PublicKey.Oid.Value != Ed25519Oid || publicKey.Length != Ed25519PublicKeyParameters.KeySize ||
            signature.Length != Ed25519PrivateKeyParameters.SignatureSize)
        {
            return false;
        }

        var signer = new Ed25519Signer();
        signer.Init(false, new Ed25519PublicKeyParameters(publicKey, 0));
        signer.BlockUpdate(content, 0, content.Length);
        return signer.VerifySignature(signature.ToArray());
    }

    private static HashAlgorithmName HashOf(TlsSignatureScheme scheme) => scheme switch
    {
        TlsSignatureScheme.EcdsaSecp384r1Sha384 or TlsSignatureScheme.RsaPssRsaeSha384 => HashAlgorithmName.SHA384,
        TlsSignatureScheme.EcdsaSecp521r1Sha512 or TlsSignatureScheme.RsaPssRsaeSha512 => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };
}
