using System.Security.Cryptography;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Tests.Crypto;

public class PacketKeyTests
{
    // Suites travel as their code points: xunit theories are public and CipherSuite is internal.
    public static TheoryData<ushort> Suites =>
        [(ushort)CipherSuite.Aes128GcmSha256, (ushort)CipherSuite.Aes256GcmSha384, (ushort)CipherSuite.ChaCha20Poly1305Sha256];

    private static IPacketKey NewKey(CipherSuite suite, byte seed)
    {
        byte[] secret = new byte[suite.HashLength()];
        Array.Fill(secret, seed);
        return QuicKeys.CreatePacketKey(suite, secret);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Seal_then_open_in_place_restores_the_payload(ushort suiteCode)
    {
        var suite = (CipherSuite)suiteCode;
        using IPacketKey key = NewKey(suite, 1);
        byte[] header = [0x41, 0xAA, 0xBB];
        byte[] original = new byte[100];
        RandomNumberGenerator.Fill(original);
        byte[] payload = (byte[])original.Clone();
        byte[] tag = new byte[key.TagLength];

        key.Seal(42, header, payload, tag);
        Assert.NotEqual(original, payload);
        Assert.True(key.TryOpen(42, header, payload, tag));

        Assert.Equal(original, payload);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Open_fails_on_a_changed_header_packet_number_payload_or_tag(ushort suiteCode)
    {
        var suite = (CipherSuite)suiteCode;
        using IPacketKey key = NewKey(suite, 2);
        byte[] header = [0x41, 0xAA, 0xBB];
        byte[] sealedPayload = new byte[32];
        byte[] tag = new byte[16];
        key.Seal(9, header, sealedPayload, tag);

        Assert.False(key.TryOpen(9, [0x41, 0xAA, 0xBC], (byte[])sealedPayload.Clone(), tag));
        Assert.False(key.TryOpen(10, header, (byte[])sealedPayload.Clone(), tag));
        byte[] flipped = (byte[])sealedPayload.Clone();
        flipped[5] ^= 1;
        Assert.False(key.TryOpen(9, header, flipped, tag));
        byte[] badTag = (byte[])tag.Clone();
        badTag[15] ^= 0x80;
        Assert.False(key.TryOpen(9, header, (byte[])sealedPayload.Clone(), badTag));
        Assert.False(key.TryOpen(9, header, (byte[])sealedPayload.Clone(), tag.AsSpan(0, 15)));
        Assert.True(key.TryOpen(9, header, sealedPayload, tag));
    }

    [Fact]
    public void Nonce_is_the_iv_xor_the_left_padded_packet_number()
    {
        // RFC 9001 A.5: iv e0459b3474bdd0e44a41c144, pn 654360564.
        byte[] nonce = new byte[12];
        PacketNonce.Compute(Hex.Bytes("e0459b3474bdd0e44a41c144"), 654360564, nonce);

        Assert.Equal(Hex.Bytes("e0459b3474bdd0e46d417eb0"), nonce);
    }

    [Theory]
    [InlineData((ushort)CipherSuite.Aes128GcmSha256, 1L << 23, 1L << 52)]
    [InlineData((ushort)CipherSuite.Aes256GcmSha384, 1L << 23, 1L << 52)]
    [InlineData((ushort)CipherSuite.ChaCha20Poly1305Sha256, 1L << 62, 1L << 36)]
    public void Usage_limits_follow_rfc9001_section_6_6(ushort suiteCode, long confidentiality, long integrity)
    {
        var suite = (CipherSuite)suiteCode;
        using IPacketKey key = NewKey(suite, 3);

        Assert.Equal(16, key.TagLength);
        Assert.Equal(confidentiality, key.ConfidentialityLimit);
        Assert.Equal(integrity, key.IntegrityLimit);
    }

    [Fact]
    public void Suites_use_different_algorithms_for_the_same_secret()
    {
        byte[] secret = new byte[48];
        using IPacketKey aes = QuicKeys.CreatePacketKey(CipherSuite.Aes256GcmSha384, secret);
        using IPacketKey chacha = QuicKeys.CreatePacketKey(CipherSuite.ChaCha20Poly1305Sha256, secret.AsSpan(0, 32));
        byte[] a = new byte[16];
        byte[] c = new byte[16];
        byte[] tagA = new byte[16];
        byte[] tagC = new byte[16];

        aes.Seal(1, [], a, tagA);
        chacha.Seal(1, [], c, tagC);

        Assert.NotEqual(a, c);
    }
}
