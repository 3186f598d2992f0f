using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Connet.Core.Crypto;

/// <summary>
/// NaCl's crypto_box_curve25519xsalsa20poly1305, byte-compatible with Go's golang.org/x/crypto/nacl/box.
/// The control server and relays use it to seal a client's relay authentication (connet-protocol.md §2.4):
/// both sides precompute the shared key once, and each sealed message carries its own random nonce.
/// </summary>
public static class NaClBox
{
    public const int KeyLength = 32;
    public const int NonceLength = 24;
    public const int TagLength = 16;

    private const int PolyKeyLength = 32;
    private const int HSalsaInputLength = 16;

    public static (byte[] PrivateKey, byte[] PublicKey) GenerateKeyPair()
    {
        var privateKey = new X25519PrivateKeyParameters(new SecureRandom());
        return (privateKey.GetEncoded(), privateKey.GeneratePublicKey().GetEncoded());
    }

    /// <summary>crypto_box_beforenm: HSalsa20(X25519(ourPrivateKey, theirPublicKey), 0¹⁶) — Go's box.Precompute.</summary>
    /// <exception cref="ArgumentException">A key is not <see cref="KeyLength"/> bytes.</exception>
    /// <exception cref="CryptographicException">Their public key is a low-order point (all-zero shared secret).</exception>
    public static byte[] Precompute(ReadOnlySpan<byte> theirPublicKey, ReadOnlySpan<byte> ourPrivateKey)
    {
        if (theirPublicKey.Length != KeyLength)
        {
            throw new ArgumentException($"A box public key is {KeyLength} bytes, not {theirPublicKey.Length}.", nameof(theirPublicKey));
        }

        if (ourPrivateKey.Length != KeyLength)
        {
            throw new ArgumentException($"A box private key is {KeyLength} bytes, not {ourPrivateKey.Length}.", nameof(ourPrivateKey));
        }

        var agreement = new X25519Agreement();
        agreement.Init(new X25519PrivateKeyParameters(ourPrivateKey));
        var sharedSecret = new byte[agreement.AgreementSize];
        try
        {
            // BouncyCastle throws InvalidOperationException when the result is all zero (a low-order point).
            agreement.CalculateAgreement(new X25519PublicKeyParameters(theirPublicKey), sharedSecret);
            return HSalsa20(sharedSecret, stackalloc byte[HSalsaInputLength]);
        }
        catch (InvalidOperationException exception)
        {
            throw new CryptographicException("box: the peer's public key is a low-order point.", exception);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    /// <summary>Seals under a fresh random nonce: nonce ‖ tag ‖ ciphertext, as Go's box.SealAfterPrecomputation(nonce[:], …) returns.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> message)
    {
        Span<byte> nonce = stackalloc byte[NonceLength];
        RandomNumberGenerator.Fill(nonce);
        return Seal(sharedKey, nonce, message);
    }

    /// <summary>Seals under an explicit nonce (known-answer tests); never reuse a nonce with the same key.</summary>
    internal static byte[] Seal(ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> message)
    {
        RequireKey(sharedKey);
        if (nonce.Length != NonceLength)
        {
            throw new ArgumentException($"A box nonce is {NonceLength} bytes, not {nonce.Length}.", nameof(nonce));
        }

        var sealedMessage = new byte[NonceLength + TagLength + message.Length];
        nonce.CopyTo(sealedMessage);
        var cipher = CreateCipher(sharedKey, nonce, out var polyKey);
        var ciphertext = sealedMessage.AsSpan(NonceLength + TagLength);
        cipher.ProcessBytes(message, ciphertext);
        ComputeTag(polyKey, ciphertext, sealedMessage.AsSpan(NonceLength, TagLength));
        CryptographicOperations.ZeroMemory(polyKey);
        return sealedMessage;
    }

    /// <summary>Opens nonce ‖ tag ‖ ciphertext; false when the input is too short or the tag does not verify.</summary>
    public static bool TryOpen(ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> sealedMessage, [NotNullWhen(true)] out byte[]? message)
    {
        RequireKey(sharedKey);
        message = null;
        if (sealedMessage.Length < NonceLength + TagLength)
        {
            return false;
        }

        var nonce = sealedMessage[..NonceLength];
        var tag = sealedMessage.Slice(NonceLength, TagLength);
        var ciphertext = sealedMessage[(NonceLength + TagLength)..];
        var cipher = CreateCipher(sharedKey, nonce, out var polyKey);
        Span<byte> expectedTag = stackalloc byte[TagLength];
        ComputeTag(polyKey, ciphertext, expectedTag);
        CryptographicOperations.ZeroMemory(polyKey);
        if (!CryptographicOperations.FixedTimeEquals(expectedTag, tag))
        {
            return false;
        }

        message = new byte[ciphertext.Length];
        cipher.ProcessBytes(ciphertext, message);
        return true;
    }

    /// <summary>
    /// HSalsa20 (crypto_core_hsalsa20 with the "expand 32-byte k" constant): the Salsa20 core's 20 rounds
    /// without the final addition, output words 0, 5, 10, 15, 6, 7, 8, 9. BouncyCastle keeps it private.
    /// </summary>
    internal static byte[] HSalsa20(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        Span<uint> x = stackalloc uint[16];
        x[0] = 0x61707865;
        x[5] = 0x3320646e;
        x[10] = 0x79622d32;
        x[15] = 0x6b206574;
        for (var i = 0; i < 4; i++)
        {
            x[1 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
            x[11 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(16 + (4 * i))..]);
            x[6 + i] = BinaryPrimitives.ReadUInt32LittleEndian(input[(4 * i)..]);
        }

        for (var round = 0; round < 20; round += 2)
        {
            QuarterRound(x, 0, 4, 8, 12);
            QuarterRound(x, 5, 9, 13, 1);
            QuarterRound(x, 10, 14, 2, 6);
            QuarterRound(x, 15, 3, 7, 11);
            QuarterRound(x, 0, 1, 2, 3);
            QuarterRound(x, 5, 6, 7, 4);
            QuarterRound(x, 10, 11, 8, 9);
            QuarterRound(x, 15, 12, 13, 14);
        }

        var output = new byte[KeyLength];
        ReadOnlySpan<int> outputWords = [0, 5, 10, 15, 6, 7, 8, 9];
        for (var i = 0; i < outputWords.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(4 * i), x[outputWords[i]]);
        }

        x.Clear();
        return output;
    }

    // Salsa20's quarter round on (a, b, c, d): b ^= (a+d)<<<7; c ^= (b+a)<<<9; d ^= (c+b)<<<13; a ^= (d+c)<<<18.
    private static void QuarterRound(Span<uint> x, int a, int b, int c, int d)
    {
        x[b] ^= uint.RotateLeft(x[a] + x[d], 7);
        x[c] ^= uint.RotateLeft(x[b] + x[a], 9);
        x[d] ^= uint.RotateLeft(x[c] + x[b], 13);
        x[a] ^= uint.RotateLeft(x[d] + x[c], 18);
    }

    // secretbox: the first 32 bytes of the XSalsa20 key stream are the one-time Poly1305 key; the message is
    // encrypted with the stream from byte 32 on, so the returned cipher continues exactly there.
    private static XSalsa20Engine CreateCipher(ReadOnlySpan<byte> sharedKey, ReadOnlySpan<byte> nonce, out byte[] polyKey)
    {
        var cipher = new XSalsa20Engine();
        cipher.Init(true, new ParametersWithIV(new KeyParameter(sharedKey), nonce));
        polyKey = new byte[PolyKeyLength];
        cipher.ProcessBytes(polyKey, polyKey);
        return cipher;
    }

    private static void ComputeTag(ReadOnlySpan<byte> polyKey, ReadOnlySpan<byte> ciphertext, Span<byte> tag)
    {
        var mac = new Poly1305();
        mac.Init(new KeyParameter(polyKey));
        mac.BlockUpdate(ciphertext);
        mac.DoFinal(tag);
    }

    private static void RequireKey(ReadOnlySpan<byte> sharedKey)
    {
        if (sharedKey.Length != KeyLength)
        {
            throw new ArgumentException($"A box shared key is {KeyLength} bytes, not {sharedKey.Length}.", nameof(sharedKey));
        }
    }
}
