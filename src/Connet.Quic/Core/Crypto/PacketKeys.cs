namespace Connet.Quic.Core.Crypto;

/// <summary>AEAD packet payload protection for one direction and one key phase (RFC 9001 §5.3).</summary>
internal interface IPacketKey : IDisposable
{
    /// <summary>Authentication tag length in bytes (16 for every QUIC v1 AEAD).</summary>
    int TagLength { get; }

    /// <summary>Packets that may be encrypted with this key before it must be updated (RFC 9001 §6.6).</summary>
    long ConfidentialityLimit { get; }

    /// <summary>Failed decryptions tolerated across the connection before AEAD_LIMIT_REACHED (RFC 9001 §6.6).</summary>
    long IntegrityLimit { get; }

    /// <summary>Encrypts <paramref name="payload"/> in place; nonce is the IV XOR the packet number.</summary>
    void Seal(ulong packetNumber, ReadOnlySpan<byte> header, Span<byte> payload, Span<byte> tag);

    /// <summary>Decrypts <paramref name="payload"/> in place; false when authentication fails.</summary>
    bool TryOpen(ulong packetNumber, ReadOnlySpan<byte> header, Span<byte> payload, ReadOnlySpan<byte> tag);
}

/// <summary>Header protection (RFC 9001 §5.4): a 5-byte mask from a 16-byte ciphertext sample.</summary>
internal interface IHeaderKey : IDisposable
{
    void CreateMask(ReadOnlySpan<byte> sample, Span<byte> mask);
}
