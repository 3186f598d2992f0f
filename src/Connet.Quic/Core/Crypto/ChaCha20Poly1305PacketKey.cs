using System.Security.Cryptography;

namespace Connet.Quic.Core.Crypto;

/// <summary>AEAD_CHACHA20_POLY1305 packet protection (RFC 9001 §5.3), limits from §6.6.</summary>
internal sealed class ChaCha20Poly1305PacketKey : IPacketKey
{
    private const int TagSize = 16;

    private readonly ChaCha20Poly1305 _aead;
    private readonly byte[] _iv;

    public ChaCha20Poly1305PacketKey(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("A ChaCha20-Poly1305 key is 32 bytes.", nameof(key));
        }

        if (iv.Length != PacketNonce.Length)
        {
            throw new ArgumentException("A QUIC packet protection IV is 12 bytes.", nameof(iv));
        }

        _aead = new ChaCha20Poly1305(key);
        _iv = iv.ToArray();
    }

    public int TagLength => TagSize;

    // RFC 9001 §6.6: confidentiality is bounded only by the packet number space; 2^36 forgery attempts for integrity.
    public long ConfidentialityLimit => 1L << 62;

    public long IntegrityLimit => 1L << 36;

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
