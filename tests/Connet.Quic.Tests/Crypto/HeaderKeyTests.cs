using System.Security.Cryptography;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Tests.Crypto;

public class HeaderKeyTests
{
    [Theory]
    [InlineData("000102030405060708090a0b0c0d0e0f", "69c4e0d86a7b0430d8cdb78070b4c55a")]
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "8ea2b7ca516745bfeafc49904b496089")]
    public void Aes_ni_block_cipher_matches_fips197_appendix_c(string key, string expectedCiphertext)
    {
        if (!AesNiBlockCipher.IsSupported)
        {
            return;
        }

        using var cipher = new AesNiBlockCipher(Hex.Bytes(key));
        byte[] output = new byte[16];

        cipher.EncryptBlock(Hex.Bytes("00112233445566778899aabbccddeeff"), output);

        Assert.Equal(Hex.Bytes(expectedCiphertext), output);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void Hardware_and_bcl_aes_paths_give_identical_masks(int keyLength)
    {
        byte[] key = new byte[keyLength];
        RandomNumberGenerator.Fill(key);
        using var hardware = new AesHeaderKey(key);
        using var bcl = new AesHeaderKey(key, allowHardwareIntrinsics: false);
        Assert.False(bcl.IsHardwareAccelerated);
        Assert.Equal(AesNiBlockCipher.IsSupported, hardware.IsHardwareAccelerated);

        byte[] sample = new byte[16];
        byte[] fromHardware = new byte[5];
        byte[] fromBcl = new byte[5];
        for (int i = 0; i < 200; i++)
        {
            RandomNumberGenerator.Fill(sample);
            hardware.CreateMask(sample, fromHardware);
            bcl.CreateMask(sample, fromBcl);
            Assert.Equal(fromBcl, fromHardware);
        }
    }

    [Fact]
    public void Bcl_aes_path_matches_rfc9001_a2_mask()
    {
        using var hp = new AesHeaderKey(Hex.Bytes("9f50449e04a0e810283a1e9933adedd2"), allowHardwareIntrinsics: false);
        byte[] mask = new byte[5];

        hp.CreateMask(Hex.Bytes("d1b1c98dd7689fb8ec11d242b123dc9b"), mask);

        Assert.Equal(Hex.Bytes("437b9aec36"), mask);
    }

    [Fact]
    public void ChaCha20_block_matches_rfc8439_section_2_3_2()
    {
        byte[] key = Hex.Bytes("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        uint[] keyWords = new uint[8];
        for (int i = 0; i < 8; i++)
        {
            keyWords[i] = BitConverter.ToUInt32(key, i * 4);
        }

        byte[] keystream = new byte[16];
        ChaCha20Block.Keystream(keyWords, 1, Hex.Bytes("000000090000004a00000000"), keystream);

        Assert.Equal(Hex.Bytes("10f1e7e4d13b5915500fdd1fa32071c4"), keystream);
    }

    [Fact]
    public void ChaCha20_header_key_uses_the_sample_as_counter_and_nonce()
    {
        using var hp = new ChaCha20HeaderKey(Hex.Bytes("25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4"));
        byte[] mask = new byte[5];

        hp.CreateMask(Hex.Bytes("5e5cd55c41f69080575d7999c25a5bfb"), mask);
        Assert.Equal(Hex.Bytes("aefefe7d03"), mask);

        // A different counter (first four sample bytes) gives a different mask.
        hp.CreateMask(Hex.Bytes("5f5cd55c41f69080575d7999c25a5bfb"), mask);
        Assert.NotEqual(Hex.Bytes("aefefe7d03"), mask);
    }

    [Fact]
    public void Header_keys_reject_short_samples_and_wrong_key_sizes()
    {
        using var aes = new AesHeaderKey(new byte[16]);
        using var chacha = new ChaCha20HeaderKey(new byte[32]);
        byte[] mask = new byte[5];

        Assert.Throws<ArgumentException>(() => aes.CreateMask(new byte[15], mask));
        Assert.Throws<ArgumentException>(() => chacha.CreateMask(new byte[15], mask));
        Assert.Throws<ArgumentException>(() => new AesHeaderKey(new byte[24]));
        Assert.Throws<ArgumentException>(() => new ChaCha20HeaderKey(new byte[16]));
    }
}
