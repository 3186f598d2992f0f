using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>AES-based header protection (RFC 9001 §5.4.3): mask = AES-ECB(hp_key, sample)[0..5].</summary>
internal sealed class AesHeaderKey : IHeaderKey
{
    private const int SampleLength = 16;

    private readonly AesNiBlockCipher? _hardware;
    private readonly System.Security.Cryptography.Aes? _fallback;

    /// <param name="key">The 16- or 32-byte "quic hp" key.</param>
    /// <param name="allowHardwareIntrinsics">False forces the BCL path; tests use it to check both paths agree.</param>
    public AesHeaderKey(ReadOnlySpan<byte> key, bool allowHardwareIntrinsics = true)
    {
        if (key.Length is not (16 or 32))
        {
            throw new ArgumentException("An AES header protection key is 16 or 32 bytes.", nameof(key));
        }

        if (allowHardwareIntrinsics && AesNiBlockCipher.IsSupported)
        {
            _hardware = new AesNiBlockCipher(key);
        }
        else
        {
            _fallback = System.Security.Cryptography.Aes.Create();
            _fallback.Key = key.ToArray();
        }
    }

    public bool IsHardwareAccelerated => _hardware is not null;

    public void CreateMask(ReadOnlySpan<byte> sample, Span<byte> mask)
    {
        if (sample.Length < SampleLength)
        {
            throw new ArgumentException("A header protection sample is 16 bytes.", nameof(sample));
        }

        Span<byte> block = stackalloc byte[SampleLength];
        if (_hardware is not null)
        {
            _hardware.EncryptBlock(sample, block);
        }
        else
        {
            _fallback!.EncryptEcb(sample[..SampleLength], block, PaddingMode.None);
        }

        block[..HeaderProtectionMask.Length].CopyTo(mask);
    }

    public void Dispose()
    {
        _hardware?.Dispose();
        _fallback?.Dispose();
    }
}
