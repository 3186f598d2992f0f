using System.Security.Cryptography;
using Connet.Core.Crypto;

namespace Connet.Core.Tests.Crypto;

public sealed class NaClBoxTests
{
    // The NaCl distribution's known answers (tests/box.c, box2.c, firstkey.c); the keys are RFC 7748 §6.1's.
    private const string AlicePrivateHex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublicHex = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string BobPrivateHex = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private const string BobPublicHex = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string X25519SharedHex = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    private const string FirstKeyHex = "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389";
    private const string NonceHex = "69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37";

    private const string MessageHex =
        "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc" +
        "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31" +
        "0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde" +
        "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864" +
        "5e0705";

    // tag16 ‖ ciphertext131: box.c's output after its 16 zero bytes.
    private const string BoxedHex =
        "f3ffc7703f9400e52a7dfb4b3d3305d9" +
        "8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a" +
        "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738" +
        "b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da" +
        "99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74" +
        "e355a5";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    [Fact]
    public void HSalsa20_of_the_X25519_secret_is_nacl_firstkey()
    {
        var firstKey = NaClBox.HSalsa20(Hex(X25519SharedHex), new byte[16]);
        Assert.Equal(FirstKeyHex, Convert.ToHexStringLower(firstKey));
    }

    [Fact]
    public void Precompute_gives_the_same_first_key_from_both_sides()
    {
        Assert.Equal(FirstKeyHex, Convert.ToHexStringLower(NaClBox.Precompute(Hex(BobPublicHex), Hex(AlicePrivateHex))));
        Assert.Equal(FirstKeyHex, Convert.ToHexStringLower(NaClBox.Precompute(Hex(AlicePublicHex), Hex(BobPrivateHex))));
    }

    [Fact]
    public void Seal_with_the_nacl_nonce_gives_the_box_c_ciphertext()
    {
        var sealedMessage = NaClBox.Seal(Hex(FirstKeyHex), Hex(NonceHex), Hex(MessageHex));
        Assert.Equal(NonceHex + BoxedHex, Convert.ToHexStringLower(sealedMessage));
    }

    [Fact]
    public void TryOpen_of_the_box2_c_ciphertext_gives_the_message()
    {
        var sharedKey = NaClBox.Precompute(Hex(AlicePublicHex), Hex(BobPrivateHex));
        Assert.True(NaClBox.TryOpen(sharedKey, Hex(NonceHex + BoxedHex), out var message));
        Assert.Equal(MessageHex, Convert.ToHexStringLower(message));
    }

    [Fact]
    public void Generated_pairs_round_trip_with_random_nonces()
    {
        var (alicePrivate, alicePublic) = NaClBox.GenerateKeyPair();
        var (bobPrivate, bobPublic) = NaClBox.GenerateKeyPair();
        var aliceKey = NaClBox.Precompute(bobPublic, alicePrivate);
        var bobKey = NaClBox.Precompute(alicePublic, bobPrivate);
        Assert.Equal(aliceKey, bobKey);

        foreach (var length in new[] { 0, 1, 31, 32, 33, 64, 1000 })
        {
            var message = RandomNumberGenerator.GetBytes(length);
            var first = NaClBox.Seal(aliceKey, message);
            var second = NaClBox.Seal(aliceKey, message);
            Assert.Equal(NaClBox.NonceLength + NaClBox.TagLength + length, first.Length);
            Assert.NotEqual(first[..NaClBox.NonceLength], second[..NaClBox.NonceLength]);
            Assert.True(NaClBox.TryOpen(bobKey, first, out var opened));
            Assert.Equal(message, opened);
        }
    }

    [Fact]
    public void Any_tampered_byte_fails_to_open()
    {
        var key = NaClBox.Precompute(Hex(BobPublicHex), Hex(AlicePrivateHex));
        var sealedMessage = NaClBox.Seal(key, Hex(MessageHex));
        for (var index = 0; index < sealedMessage.Length; index++)
        {
            var tampered = (byte[])sealedMessage.Clone();
            tampered[index] ^= 0x01;
            Assert.False(NaClBox.TryOpen(key, tampered, out var message), $"byte {index} flipped still opened");
            Assert.Null(message);
        }
    }

    [Fact]
    public void Truncated_or_wrong_key_fails_to_open()
    {
        var key = NaClBox.Precompute(Hex(BobPublicHex), Hex(AlicePrivateHex));
        var sealedMessage = NaClBox.Seal(key, "hello"u8);
        for (var length = 0; length < sealedMessage.Length; length++)
        {
            Assert.False(NaClBox.TryOpen(key, sealedMessage.AsSpan(0, length), out _), $"{length} bytes opened");
        }

        var otherKey = (byte[])key.Clone();
        otherKey[0] ^= 0x80;
        Assert.False(NaClBox.TryOpen(otherKey, sealedMessage, out _));
    }

    [Fact]
    public void Precompute_rejects_wrong_lengths_and_low_order_points()
    {
        var (privateKey, publicKey) = NaClBox.GenerateKeyPair();
        Assert.Throws<ArgumentException>(() => NaClBox.Precompute(publicKey.AsSpan(1), privateKey));
        Assert.Throws<ArgumentException>(() => NaClBox.Precompute(publicKey, new byte[31]));
        Assert.Throws<CryptographicException>(() => NaClBox.Precompute(new byte[NaClBox.KeyLength], privateKey));
    }
}
