using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Connet.Core.Crypto;

/// <summary>An ephemeral X25519 key pair for one dhxcp relay stream (the BCL has no X25519, so BouncyCastle).</summary>
public sealed class DhxcpKeyPair
{
    public const int KeyLength = 32;

    private readonly X25519PrivateKeyParameters _privateKey;

    private DhxcpKeyPair(X25519PrivateKeyParameters privateKey)
    {
        _privateKey = privateKey;
        PublicKey = privateKey.GeneratePublicKey().GetEncoded();
    }

    /// <summary>The 32-byte X25519 public key (RFC 7748 encoding).</summary>
    public ReadOnlyMemory<byte> PublicKey { get; }

    public static DhxcpKeyPair Generate() => new(new X25519PrivateKeyParameters(new SecureRandom()));

    /// <summary>Rebuilds a key pair from a 32-byte private scalar (for known-answer tests).</summary>
    public static DhxcpKeyPair FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != KeyLength)
        {
            throw new ArgumentException($"An X25519 private key is {KeyLength} bytes, not {privateKey.Length}.", nameof(privateKey));
        }

        return new(new X25519PrivateKeyParameters(privateKey));
    }

    /// <summary>The X25519 shared secret with <paramref name="peerPublicKey"/>.</summary>
    /// <exception cref="CryptographicException">The peer key is a low-order point (all-zero secret), which Go's crypto/ecdh rejects too.</exception>
    internal byte[] AgreeWith(ReadOnlySpan<byte> peerPublicKey)
    {
        if (peerPublicKey.Length != KeyLength)
        {
            throw new CryptographicException($"dhxcp: an X25519 public key is {KeyLength} bytes, not {peerPublicKey.Length}.");
        }

        var agreement = new X25519Agreement();
        agreement.Init(_privateKey);
        var secret = new byte[agreement.AgreementSize];
        try
        {
            // BouncyCastle throws InvalidOperationException for a low-order point (all-zero result).
            agreement.CalculateAgreement(new X25519PublicKeyParameters(peerPublicKey), secret);
        }
        catch (InvalidOperationException exception)
        {
            throw new CryptographicException("dhxcp: the peer's X25519 public key is a low-order point.", exception);
        }

        return secret;
    }
}
