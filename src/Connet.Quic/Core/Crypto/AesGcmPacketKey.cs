using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>AEAD_AES_128_GCM / AEAD_AES_256_GCM packet protection (RFC 9001 §5.3), limits from §6.6.</summary>
internal sealed class AesGcmPacketKey : IPacketKey
{
    private const int TagSize = 16;

    private readonly AesGcm _aead;
    private readonly byte[] _iv;

    public AesGcmPacketKey(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        if (key.Length is not (16 or 32))
        {
            throw new ArgumentException("An AES-GCM key is 16 or 32 bytes.", nameof(key));
        }

        if (iv.Length != PacketNonce.Length)
        {
            throw new ArgumentException("A QUIC packet protection IV is 12 bytes.", nameof(iv));
        }

        _aead = new AesGcm(key, TagSize);
        _iv = iv.ToArray();
    }

    public int TagLength => TagSize;

    // RFC 9001 §6.6: 2^23 packets for confidentiality, 2^52 forgery attempts for integrity.
    public long ConfidentialityLimit => 1L << 23;

    public long IntegrityLimit => 1L << 52;

    public void Seal(ulong packetNumber, ReadOnlySpan<byte> header, Span<byte> payload, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[PacketNonce.Length];
        PacketNonce.Compute(_iv, packetNumber, nonce);
        _aead.Encrypt(nonce, payload, payload, tag[..TagSize], header);
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
            _aead.Decrypt(nonce, payload, tag, payload, header);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _aead.Dispose();
        CryptographicOperations.ZeroMemory(_iv);
    }
}
