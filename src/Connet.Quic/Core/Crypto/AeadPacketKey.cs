using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>
/// Packet payload protection (RFC 9001 §5.3) with AEAD_AES_128_GCM, AEAD_AES_256_GCM or AEAD_CHACHA20_POLY1305, in
/// place and without allocating; the nonce is the IV XOR the packet number. Limits are those of RFC 9001 §6.6.
/// </summary>
internal sealed class AeadPacketKey : IPacketKey
{
    private const int TagSize = 16;

    // Exactly one is set; the BCL types share no interface, and a branch is cheaper than an adapter per packet.
    private readonly AesGcm? _aesGcm;
    private readonly ChaCha20Poly1305? _chaCha;
    private readonly byte[] _iv;

    private AeadPacketKey(AesGcm? aesGcm, ChaCha20Poly1305? chaCha, ReadOnlySpan<byte> iv, long confidentialityLimit, long integrityLimit)
    {
        if (iv.Length != PacketNonce.Length)
        {
            aesGcm?.Dispose();
            chaCha?.Dispose();
            throw new ArgumentException("A QUIC packet protection IV is 12 bytes.", nameof(iv));
        }

        _aesGcm = aesGcm;
        _chaCha = chaCha;
        _iv = iv.ToArray();
        ConfidentialityLimit = confidentialityLimit;
        IntegrityLimit = integrityLimit;
    }

    public int TagLength => TagSize;

    public long ConfidentialityLimit { get; }

    public long IntegrityLimit { get; }

    /// <summary>AES-GCM with a 16- or 32-byte key: 2^23 packets for confidentiality, 2^52 forgeries for integrity.</summary>
    public static AeadPacketKey ForAesGcm(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        if (key.Length is not (16 or 32))
        {
            throw new ArgumentException("An AES-GCM key is 16 or 32 bytes.", nameof(key));
        }

        return new AeadPacketKey(new AesGcm(key, TagSize), null, iv, 1L << 23, 1L << 52);
    }

    /// <summary>ChaCha20-Poly1305 with a 32-byte key: bounded only by the packet number space, 2^36 forgeries.</summary>
    public static AeadPacketKey ForChaCha20Poly1305(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("A ChaCha20-Poly1305 key is 32 bytes.", nameof(key));
        }

        return new AeadPacketKey(null, new ChaCha20Poly1305(key), iv, 1L << 62, 1L << 36);
    }

    public void Seal(ulong packetNumber, ReadOnlySpan<byte> header, Span<byte> payload, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[PacketNonce.Length];
        PacketNonce.Compute(_iv, packetNumber, nonce);
        if (_aesGcm is not null)
        {
            _aesGcm.Encrypt(nonce, payload, payload, tag[..TagSize], header);
        }
        else
        {
            _chaCha!.Encrypt(nonce, payload, payload, tag[..TagSize], header);
        }
    }

    public bool TryOpen(ulong packetNumber, ReadOnlySpan<byte> header, Span<byte> payload, ReadOnlySpan<byte> tag)
    {
        if (tag.Length != TagSize)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[PacketNonce.Length];
        PacketNonce.Compute(_iv, packetNumber, nonce);
        try
        {
            if (_aesGcm is not null)
            {
                _aesGcm.Decrypt(nonce, payload, tag, payload, header);
            }
            else
            {
                _chaCha!.Decrypt(nonce, payload, tag, payload, header);
            }

            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _aesGcm?.Dispose();
        _chaCha?.Dispose();
        CryptographicOperations.ZeroMemory(_iv);
    }
}
