using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Connet.Quic.Core.Crypto;

/// <summary>
/// The ChaCha20 block function of RFC 8439 §2.3. The BCL only exposes ChaCha20 inside the AEAD, while QUIC header
/// protection needs the raw keystream.
/// </summary>
internal static class ChaCha20Block
{
    public const int KeyLength = 32;
    public const int NonceLength = 12;
    public const int BlockLength = 64;

    /// <summary>Writes the first <c>output.Length</c> (at most 64) bytes of the keystream block for this counter and nonce.</summary>
    public static void Keystream(ReadOnlySpan<uint> keyWords, uint counter, ReadOnlySpan<byte> nonce, Span<byte> output)
    {
        if (keyWords.Length != 8 || nonce.Length != NonceLength || output.Length > BlockLength)
        {
            throw new ArgumentException("ChaCha20 takes an 8-word key, a 12-byte nonce and yields at most 64 bytes.");
        }

        // "expand 32-byte k", the key, the block counter and the nonce, all little-endian words.
        Span<uint> initial = stackalloc uint[16];
        initial[0] = 0x61707865;
        initial[1] = 0x3320646e;
        initial[2] = 0x79622d32;
        initial[3] = 0x6b206574;
        keyWords.CopyTo(initial[4..]);
        initial[12] = counter;
        initial[13] = BinaryPrimitives.ReadUInt32LittleEndian(nonce);
        initial[14] = BinaryPrimitives.ReadUInt32LittleEndian(nonce[4..]);
        initial[15] = BinaryPrimitives.ReadUInt32LittleEndian(nonce[8..]);

        Span<uint> x = stackalloc uint[16];
        initial.CopyTo(x);
        for (int i = 0; i < 10; i++)
        {
            QuarterRound(x, 0, 4, 8, 12);
            QuarterRound(x, 1, 5, 9, 13);
            QuarterRound(x, 2, 6, 10, 14);
            QuarterRound(x, 3, 7, 11, 15);
            QuarterRound(x, 0, 5, 10, 15);
            QuarterRound(x, 1, 6, 11, 12);
            QuarterRound(x, 2, 7, 8, 13);
            QuarterRound(x, 3, 4, 9, 14);
        }

        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i * 4 < output.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(word, x[i] + initial[i]);
            int take = Math.Min(4, output.Length - (i * 4));
            word[..take].CopyTo(output[(i * 4)..]);
        }

        x.Clear();
        initial.Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuarterRound(Span<uint> x, int a, int b, int c, int d)
    {
        x[a] += x[b];
        x[d] = BitOperations.RotateLeft(x[d] ^ x[a], 16);
        x[c] += x[d];
        x[b] = BitOperations.RotateLeft(x[b] ^ x[c], 12);
        x[a] += x[b];
        x[d] = BitOperations.RotateLeft(x[d] ^ x[a], 8);
        x[c] += x[d];
        x[b] = BitOperations.RotateLeft(x[b] ^ x[c], 7);
    }
}
