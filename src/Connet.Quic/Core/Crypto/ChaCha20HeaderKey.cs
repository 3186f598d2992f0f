using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>
/// ChaCha20-based header protection (RFC 9001 §5.4.4): the sample's first 4 bytes (little-endian) are the block
/// counter, the other 12 the nonce, and the mask is the first 5 keystream bytes (ChaCha20 of five zero bytes).
/// </summary>
internal sealed class ChaCha20HeaderKey : IHeaderKey
{
    private readonly uint[] _keyWords = new uint[8];

    public ChaCha20HeaderKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != ChaCha20Block.KeyLength)
        {
            throw new ArgumentException("A ChaCha20 header protection key is 32 bytes.", nameof(key));
        }

        for (int i = 0; i < _keyWords.Length; i++)
        {
            _keyWords[i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(i * 4)..]);
        }
    }

    public void CreateMask(ReadOnlySpan<byte> sample, Span<byte> mask)
    {
        if (sample.Length < HeaderProtectionMask.SampleLength)
        {
            throw new ArgumentException("A header protection sample is 16 bytes.", nameof(sample));
        }

        uint counter = BinaryPrimitives.ReadUInt32LittleEndian(sample);
        ChaCha20Block.Keystream(_keyWords, counter, sample.Slice(4, ChaCha20Block.NonceLength), mask[..HeaderProtectionMask.Length]);
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_keyWords.AsSpan()));
}
