using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AesNi = System.Runtime.Intrinsics.X86.Aes;

namespace Connet.Quic.Core.Crypto;

/// <summary>
/// Single-block AES-128/256 encryption on AES-NI. Header protection needs one block per packet, where the BCL's
/// <c>Aes.EncryptEcb</c> costs about a microsecond of call overhead; the instructions themselves take nanoseconds.
/// Only usable when <see cref="IsSupported"/>.
/// </summary>
internal sealed class AesNiBlockCipher : IDisposable
{
    public const int BlockSize = 16;

    private readonly Vector128<byte>[] _roundKeys;

    public AesNiBlockCipher(ReadOnlySpan<byte> key)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("AES-NI is not available.");
        }

        _roundKeys = key.Length switch
        {
            16 => ExpandKey128(Vector128.Create(key[..16])),
            32 => ExpandKey256(Vector128.Create(key[..16]), Vector128.Create(key[16..32])),
            _ => throw new ArgumentException("An AES key is 16 or 32 bytes here.", nameof(key)),
        };
    }

    public static bool IsSupported => AesNi.IsSupported && Sse2.IsSupported;

    public void EncryptBlock(ReadOnlySpan<byte> input, Span<byte> output)
    {
        Vector128<byte>[] roundKeys = _roundKeys;
        int lastRound = roundKeys.Length - 1;
        Vector128<byte> state = Vector128.Create(input[..BlockSize]) ^ roundKeys[0];
        for (int round = 1; round < lastRound; round++)
        {
            state = AesNi.Encrypt(state, roundKeys[round]);
        }

        state = AesNi.EncryptLast(state, roundKeys[lastRound]);
        state.CopyTo(output);
    }

    public void Dispose() => Array.Clear(_roundKeys);

    // FIPS 197 §5.2 key expansion, in the form Intel's AES-NI white paper gives: each new round key is the previous
    // one XOR its own 4-, 8- and 12-byte shifts, XOR the broadcast word KEYGENASSIST produced. The round constants
    // must be compile-time immediates, hence the unrolled calls.
    private static Vector128<byte>[] ExpandKey128(Vector128<byte> key)
    {
        var keys = new Vector128<byte>[11];
        keys[0] = key;
        keys[1] = key = Next128(key, AesNi.KeygenAssist(key, 0x01));
        keys[2] = key = Next128(key, AesNi.KeygenAssist(key, 0x02));
        keys[3] = key = Next128(key, AesNi.KeygenAssist(key, 0x04));
        keys[4] = key = Next128(key, AesNi.KeygenAssist(key, 0x08));
        keys[5] = key = Next128(key, AesNi.KeygenAssist(key, 0x10));
        keys[6] = key = Next128(key, AesNi.KeygenAssist(key, 0x20));
        keys[7] = key = Next128(key, AesNi.KeygenAssist(key, 0x40));
        keys[8] = key = Next128(key, AesNi.KeygenAssist(key, 0x80));
        keys[9] = key = Next128(key, AesNi.KeygenAssist(key, 0x1B));
        keys[10] = Next128(key, AesNi.KeygenAssist(key, 0x36));
        return keys;
    }

    private static Vector128<byte>[] ExpandKey256(Vector128<byte> even, Vector128<byte> odd)
    {
        var keys = new Vector128<byte>[15];
        keys[0] = even;
        keys[1] = odd;
        keys[2] = even = Next128(even, AesNi.KeygenAssist(odd, 0x01));
        keys[3] = odd = NextOdd256(odd, AesNi.KeygenAssist(even, 0x00));
        keys[4] = even = Next128(even, AesNi.KeygenAssist(odd, 0x02));
        keys[5] = odd = NextOdd256(odd, AesNi.KeygenAssist(even, 0x00));
        keys[6] = even = Next128(even, AesNi.KeygenAssist(odd, 0x04));
        keys[7] = odd = NextOdd256(odd, AesNi.KeygenAssist(even, 0x00));
        keys[8] = even = Next128(even, AesNi.KeygenAssist(odd, 0x08));
        keys[9] = odd = NextOdd256(odd, AesNi.KeygenAssist(even, 0x00));
        keys[10] = even = Next128(even, AesNi.KeygenAssist(odd, 0x10));
        keys[11] = odd = NextOdd256(odd, AesNi.KeygenAssist(even, 0x00));
        keys[12] = even = Next128(even, AesNi.KeygenAssist(odd, 0x20));
        keys[13] = NextOdd256(odd, AesNi.KeygenAssist(even, 0x00));
        keys[14] = Next128(even, AesNi.KeygenAssist(keys[13], 0x40));
        return keys;
    }

    // Word 3 of KEYGENASSIST's output is RotWord(SubWord(w3)) ^ rcon: the g() function of the AES-128 schedule.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Next128(Vector128<byte> previous, Vector128<byte> assist) =>
        PrefixXor(previous) ^ Sse2.Shuffle(assist.AsInt32(), 0xFF).AsByte();

    // Word 2 of KEYGENASSIST's output is SubWord(w3) without rotation: the extra step AES-256 takes for odd keys.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> NextOdd256(Vector128<byte> previous, Vector128<byte> assist) =>
        PrefixXor(previous) ^ Sse2.Shuffle(assist.AsInt32(), 0xAA).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> PrefixXor(Vector128<byte> key)
    {
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        key ^= Sse2.ShiftLeftLogical128BitLane(key, 4);
        return key;
    }
}
