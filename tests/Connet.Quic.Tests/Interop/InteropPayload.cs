using System.Buffers.Binary;

namespace Connet.Quic.Tests.Interop;

/// <summary>
/// The pseudo-random payload echo-client.mjs sends (xorshift32, four little-endian bytes per
/// step), reproduced here so a test can predict or check the bytes a node peer puts on a stream.
/// Must stay identical to payload() in tests/interop/common.mjs.
/// </summary>
internal static class InteropPayload
{
    // xorshift32 never leaves zero, so the script maps seed 0 to this constant.
    private const uint ZeroSeedReplacement = 0x9e3779b9;

    public static byte[] Generate(int length, uint seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var bytes = new byte[length];
        Fill(bytes, seed);
        return bytes;
    }

    public static void Fill(Span<byte> destination, uint seed)
    {
        var state = seed == 0 ? ZeroSeedReplacement : seed;
        Span<byte> word = stackalloc byte[sizeof(uint)];
        for (var offset = 0; offset < destination.Length; offset += sizeof(uint))
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            BinaryPrimitives.WriteUInt32LittleEndian(word, state);
            var count = Math.Min(sizeof(uint), destination.Length - offset);
            word[..count].CopyTo(destination[offset..]);
        }
    }
}
