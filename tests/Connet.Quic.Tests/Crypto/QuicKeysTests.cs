using System.Security.Cryptography;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Tests.Crypto;

public class QuicKeysTests
{
    [Fact]
    public void Initial_secrets_match_rfc9001_a1()
    {
        (byte[] client, byte[] server) = QuicKeys.DeriveInitialSecrets(Rfc9001Vectors.ClientDestinationConnectionId);

        Assert.Equal(Hex.Bytes("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"), client);
        Assert.Equal(Hex.Bytes("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"), server);
    }

    [Theory]
    [InlineData(true, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2")]
    [InlineData(false, "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314")]
    public void Initial_key_iv_and_hp_match_rfc9001_a1(bool isClient, string key, string iv, string hp)
    {
        (byte[] client, byte[] server) = QuicKeys.DeriveInitialSecrets(Rfc9001Vectors.ClientDestinationConnectionId);
        byte[] secret = isClient ? client : server;

        // The derived labels themselves.
        Assert.Equal(Hex.Bytes(key), HkdfLabel.Expand(HashAlgorithmName.SHA256, secret, "quic key", [], 16));
        Assert.Equal(Hex.Bytes(iv), HkdfLabel.Expand(HashAlgorithmName.SHA256, secret, "quic iv", [], 12));
        Assert.Equal(Hex.Bytes(hp), HkdfLabel.Expand(HashAlgorithmName.SHA256, secret, "quic hp", [], 16));

        // The key objects built from the secret behave like ones built from those RFC values.
        using IPacketKey derived = QuicKeys.CreatePacketKey(CipherSuite.Aes128GcmSha256, secret);
        using var reference = AeadPacketKey.ForAesGcm(Hex.Bytes(key), Hex.Bytes(iv));
        byte[] header = [1, 2, 3];
        byte[] viaDerived = [.. "some payload"u8];
        byte[] viaReference = [.. "some payload"u8];
        byte[] tag1 = new byte[16];
        byte[] tag2 = new byte[16];
        derived.Seal(7, header, viaDerived, tag1);
        reference.Seal(7, header, viaReference, tag2);
        Assert.Equal(viaReference, viaDerived);
        Assert.Equal(tag2, tag1);

        using IHeaderKey derivedHp = QuicKeys.CreateHeaderKey(CipherSuite.Aes128GcmSha256, secret);
        using var referenceHp = new AesHeaderKey(Hex.Bytes(hp), allowHardwareIntrinsics: false);
        byte[] sample = Hex.Bytes("d1b1c98dd7689fb8ec11d242b123dc9b");
        byte[] mask1 = new byte[5];
        byte[] mask2 = new byte[5];
        derivedHp.CreateMask(sample, mask1);
        referenceHp.CreateMask(sample, mask2);
        Assert.Equal(mask2, mask1);
    }

    [Fact]
    public void Client_header_protection_mask_matches_rfc9001_a2()
    {
        (byte[] client, _) = QuicKeys.DeriveInitialSecrets(Rfc9001Vectors.ClientDestinationConnectionId);
        using IHeaderKey hp = QuicKeys.CreateHeaderKey(CipherSuite.Aes128GcmSha256, client);
        byte[] mask = new byte[5];

        hp.CreateMask(Hex.Bytes("d1b1c98dd7689fb8ec11d242b123dc9b"), mask);

        Assert.Equal(Hex.Bytes("437b9aec36"), mask);
    }

    [Fact]
    public void ChaCha_header_protection_mask_matches_rfc9001_a5()
    {
        using IHeaderKey hp = QuicKeys.CreateHeaderKey(CipherSuite.ChaCha20Poly1305Sha256, Hex.Bytes(Rfc9001Vectors.ChaChaSecret));
        byte[] mask = new byte[5];

        hp.CreateMask(Hex.Bytes("5e5cd55c41f69080575d7999c25a5bfb"), mask);

        Assert.Equal(Hex.Bytes("aefefe7d03"), mask);
    }

    [Fact]
    public void Key_update_secret_matches_rfc9001_a5()
    {
        byte[] next = QuicKeys.NextGenerationSecret(CipherSuite.ChaCha20Poly1305Sha256, Hex.Bytes(Rfc9001Vectors.ChaChaSecret));

        Assert.Equal(Hex.Bytes(Rfc9001Vectors.ChaChaKeyUpdateSecret), next);
    }

    [Theory]
    [InlineData((ushort)CipherSuite.Aes128GcmSha256)]
    [InlineData((ushort)CipherSuite.Aes256GcmSha384)]
    [InlineData((ushort)CipherSuite.ChaCha20Poly1305Sha256)]
    public void Key_update_yields_a_new_deterministic_secret_and_a_different_key(ushort suiteCode)
    {
        var suite = (CipherSuite)suiteCode;
        byte[] current = new byte[suite.HashLength()];
        RandomNumberGenerator.Fill(current);

        byte[] next = QuicKeys.NextGenerationSecret(suite, current);
        byte[] again = QuicKeys.NextGenerationSecret(suite, current);

        Assert.Equal(suite.HashLength(), next.Length);
        Assert.NotEqual(current, next);
        Assert.Equal(next, again);
        Assert.NotEqual(next, QuicKeys.NextGenerationSecret(suite, next));

        // A packet sealed with the current key does not open with the next one.
        using IPacketKey currentKey = QuicKeys.CreatePacketKey(suite, current);
        using IPacketKey nextKey = QuicKeys.CreatePacketKey(suite, next);
        byte[] payload = [1, 2, 3, 4];
        byte[] tag = new byte[16];
        currentKey.Seal(5, [0x40], payload, tag);
        Assert.False(nextKey.TryOpen(5, [0x40], payload, tag));
    }
}
